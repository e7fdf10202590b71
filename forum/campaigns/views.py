"""Pages: account email links, email settings, one-click unsubscribe, campaign links
and the open pixel, the admin's segments and campaigns, the development outbox."""

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from .. import mail
from ..errors import ServiceError
from ..extensions import db, limiter
from ..permissions import acting_user
from ..web import bring_coupon, form_status, run_form
from . import service
from .forms import (
    CONDITION_ROWS,
    CampaignForm,
    EmailChangeForm,
    ForgotForm,
    PhoneCodeForm,
    PhoneForm,
    PreferencesForm,
    ResetForm,
    ScheduleForm,
    SegmentForm,
    fill_segment_form,
    rule_from_form,
)
from .models import SmsMessage

bp = Blueprint("campaigns", __name__)
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


# --- account email ---------------------------------------------------------------


def _confirm_page(check, token: str, action: str):
    """A mailed link's page: what following it would do and a button that does it (a
    POST), so the GET writes nothing and a mail scanner's fetch changes nothing."""
    try:
        user, email = check(token)
    except service.InvalidToken as err:
        return _link_invalid(err)
    return render_template(
        "campaigns/confirm_link.html",
        action=url_for(action, token=token),
        kind=action.removeprefix("campaigns."),
        user=user,
        email=email,
    )


def _link_invalid(err):
    return render_template("campaigns/link_invalid.html", message=err.message), 400


def _follow_link(follow, token: str, said):
    """A mailed link's button: ``follow(token)`` and commit, then flash ``said(result)``
    and go home; a used or expired link says why instead, and nothing is written."""
    try:
        result = follow(token)
    except service.InvalidToken as err:
        db.session.rollback()
        return _link_invalid(err)
    db.session.commit()
    flash(said(result), "success")
    return redirect(url_for("pages.home"))


def _mailed_link(rule: str, endpoint: str, check, follow, said) -> None:
    """A mailed link's two routes at ``rule``: the page ``<endpoint>_page`` (``check``)
    and its button, the POST ``endpoint`` (``follow``, then flash ``said(result)``)."""
    action = f"campaigns.{endpoint}"
    bp.add_url_rule(
        rule, f"{endpoint}_page", lambda token: _confirm_page(check, token, action), methods=["GET"]
    )
    bp.add_url_rule(
        rule, endpoint, lambda token: _follow_link(follow, token, said), methods=["POST"]
    )


_mailed_link(
    "/account/verify/<token>",
    "verify_email",
    service.check_verification,
    service.verify_email,
    lambda user: "Thank you: your email address is confirmed.",
)
_mailed_link(
    "/account/email/confirm/<token>",
    "confirm_email_change",
    service.check_email_change,
    service.confirm_email_change,
    lambda user: f"Your account's email is now {user.email}.",
)


@bp.post("/settings/email/verify")
@login_required
def resend_verification():
    service.send_verification(acting_user())
    db.session.commit()
    flash(f"We sent a new confirmation link to {current_user.email}.", "info")
    return redirect(url_for("campaigns.preferences"))


FORGOT_ANSWER = "If an account uses that address, we have sent it a link to reset the password."


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT"], methods=["POST"])
def forgot_password():
    form = ForgotForm()
    if run_form(form, lambda: service.request_password_reset(form.email.data)):
        flash(FORGOT_ANSWER, "info")  # the same answer whether or not the address exists
        return redirect(url_for("accounts.login"))
    return render_template("campaigns/forgot.html", form=form), form_status(form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT"], methods=["POST"])
def reset_password(token: str):
    try:
        service.peek(token, "reset_password")
    except service.InvalidToken as err:
        return _link_invalid(err)
    form = ResetForm()
    if run_form(form, lambda: service.confirm_password_reset(token, form.password.data)):
        if current_user.is_authenticated:
            logout_user()
        flash("Your password is changed; log in with it. Every device was logged out.", "success")
        return redirect(url_for("accounts.login"))
    return render_template("campaigns/reset.html", form=form), form_status(form)


# --- email settings --------------------------------------------------------------


def _preferences_page(*, form=None, email_form=None, phone_form=None, code_form=None, status=200):
    user = acting_user()
    settings = service.settings_of(user)
    if form is None:
        form = PreferencesForm(formdata=None)
        form.marketing_email.data = settings["marketing_email"]
        form.marketing_sms.data = settings["marketing_sms"]
        form.track_opens.data = settings["track_opens"]
        form.digest.data = settings["digest"]
        for kind, choice in settings["notifications"].items():
            getattr(form, f"notify_{kind}").data = choice
    return render_template(
        "campaigns/preferences.html",
        form=form,
        settings=settings,
        kinds=service.NOTIFICATION_KINDS,
        email_form=email_form or EmailChangeForm(prefix="em", formdata=None),
        phone_form=phone_form or PhoneForm(prefix="ph", formdata=None),
        code_form=code_form or PhoneCodeForm(prefix="pc", formdata=None),
    ), status


@bp.route("/settings/email", methods=["GET", "POST"])
@login_required
def preferences():
    if request.method == "GET":
        return _preferences_page()
    form = PreferencesForm()
    done = run_form(
        form,
        lambda: service.update_settings(
            acting_user(),
            marketing_email=form.marketing_email.data,
            marketing_sms=form.marketing_sms.data,
            track_opens=form.track_opens.data,
            digest=form.digest.data,
            notifications={
                kind: getattr(form, f"notify_{kind}").data for kind in service.NOTIFICATION_KINDS
            },
        ),
    )
    return _settings_result(form, done, "form", "Email settings saved.", "success")


def _settings_result(form, done, slot: str, message: str, category: str):
    """After one form of the settings page: flash ``message`` (``{}`` takes what the
    service returned) and go back to the page, or show it again with this form (in
    ``slot``) and its errors."""
    if done:
        flash(message.format(done.value), category)
        return redirect(url_for("campaigns.preferences"))
    return _preferences_page(**{slot: form}, status=form_status(form))


@bp.post("/settings/email/address")
@login_required
def change_email():
    form = EmailChangeForm(prefix="em")
    done = run_form(form, lambda: service.request_email_change(acting_user(), form.email.data))
    message = "Follow the link we sent to {} to finish the change."
    return _settings_result(form, done, "email_form", message, "info")


@bp.post("/settings/email/phone")
@login_required
def set_phone():
    form = PhoneForm(prefix="ph")
    done = run_form(form, lambda: service.start_phone_verification(acting_user(), form.phone.data))
    return _settings_result(
        form, done, "phone_form", "We texted you a code; enter it below.", "info"
    )


@bp.post("/settings/email/phone/confirm")
@login_required
def confirm_phone():
    form = PhoneCodeForm(prefix="pc")
    done = run_form(form, lambda: service.confirm_phone(acting_user(), form.code.data))
    return _settings_result(form, done, "code_form", "Your number is verified.", "success")


# --- unsubscribe, links, opens (no session needed) ---------------------------------


@bp.get("/c/u/<token>")
def unsubscribe(token: str):
    parsed = service.read_unsubscribe(token)
    if parsed is None:
        return render_template(
            "campaigns/link_invalid.html", message="This link is not valid."
        ), 404
    return render_template("campaigns/unsubscribe.html", token=token, scope=parsed[1], done=False)


@bp.post("/c/u/<token>")
def unsubscribe_post(token: str):
    """The page's button (a CSRF-protected form). Mail clients use the one-click POST of
    the List-Unsubscribe header instead: ``POST /api/v1/unsubscribe/<token>``."""
    try:
        scope = service.unsubscribe(token)
    except ServiceError as err:
        db.session.rollback()
        return render_template("campaigns/link_invalid.html", message=err.message), err.status
    db.session.commit()
    return render_template("campaigns/unsubscribe.html", token=token, scope=scope, done=True)


@bp.get("/c/l/<token>")
def follow(token: str):
    """A link in a campaign message: mark the delivery clicked, bring the campaign's
    coupon along (the checkout starts with it filled in), then go on (to the
    attribution ``/go/`` link, which records the click and sets the cookie)."""
    parsed = service.read_link(token)
    if parsed is None:
        return redirect(url_for("pages.home"))
    delivery_id, target = parsed
    service.record_click(delivery_id)
    db.session.commit()
    bring_coupon(service.link_coupon(delivery_id))
    root = request.host_url.rstrip("/")
    if target.startswith(root + "/"):
        target = target[len(root) :]
    if not target.startswith("/") or target.startswith("//"):
        return redirect(url_for("pages.home"))  # only our own pages: never an open redirect
    return redirect(target)


@bp.get("/c/o/<token>.gif")
def opened(token: str):
    delivery_id = service.read_open(token)
    if delivery_id is not None and service.record_open(delivery_id):
        db.session.commit()
    response = current_app.response_class(PIXEL, mimetype="image/gif")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- admin: segments ---------------------------------------------------------------


def _admin():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)
    return None


@bp.before_request
def admins_only():
    if request.path.startswith("/admin/"):
        return _admin()
    return None


@bp.route("/admin/segments", methods=["GET", "POST"])
@bp.route("/admin/segments/<int:segment_id>", methods=["GET", "POST"])
def segment_form(segment_id: int | None = None):
    segment = service.get_segment(acting_user(), segment_id) if segment_id else None
    form = SegmentForm()
    if request.method == "GET" and segment is not None:
        form.name.data = segment.name
        fill_segment_form(form, segment.rule)

    def save():
        rule = rule_from_form(form)
        if segment is None:
            return service.create_segment(acting_user(), form.name.data, rule)
        return service.update_segment(acting_user(), segment, form.name.data, rule)

    done = run_form(form, save)
    if done:
        flash(
            f"Segment “{done.value.name}” saved: {service.count(done.value.rule)} members.",
            "success",
        )
        return redirect(url_for("campaigns.segment_form", segment_id=done.value.id))
    count = sample = None
    if segment is not None:
        count, sample = service.count(segment.rule), service.sample(segment.rule)
    return render_template(
        "campaigns/segment_form.html",
        form=form,
        segment=segment,
        rows=CONDITION_ROWS,
        count=count,
        sample=sample,
        segments=service.list_segments(acting_user()),
        fields=service.FIELDS,
    ), form_status(form)


# --- admin: campaigns --------------------------------------------------------------


@bp.route("/admin/campaigns", methods=["GET", "POST"])
def campaign_list():
    form = CampaignForm()
    segments = service.list_segments(acting_user())
    form.segment_id.choices = [SelectChoice(s.id, s.name) for s in segments]
    done = run_form(
        form,
        lambda: service.create_campaign(
            acting_user(),
            name=form.name.data,
            channel=form.channel.data,
            segment_id=form.segment_id.data,
            subject=form.subject.data or "",
            body=form.body.data,
            holdout_bp=form.holdout_bp.data or 0,
            coupon_code=form.coupon_code.data or "",
        ),
    )
    if done:
        flash("Campaign saved as a draft. Send yourself a test first.", "success")
        return redirect(url_for("campaigns.campaign_detail", campaign_id=done.value.id))
    return render_template(
        "campaigns/campaigns.html",
        form=form,
        campaigns=service.list_campaigns(acting_user()),
        merge_fields=service.MERGE_FIELDS,
    ), form_status(form)


@bp.get("/admin/campaigns/<int:campaign_id>")
def campaign_detail(campaign_id: int):
    campaign = service.get_campaign(acting_user(), campaign_id)
    return render_template(
        "campaigns/report.html",
        campaign=campaign,
        report=service.report(campaign),
        series=service.series(campaign.id),
        sms=service.sms_info(campaign.body) if campaign.channel == "sms" else None,
        schedule_form=ScheduleForm(formdata=None),
    )


ACTIONS = {
    "send": service.send_now,
    "pause": service.pause,
    "resume": service.resume,
    "cancel": service.cancel,
}


@bp.post("/admin/campaigns/<int:campaign_id>/<action>")
def campaign_action(campaign_id: int, action: str):
    campaign = service.get_campaign(acting_user(), campaign_id)
    try:
        if action == "test":
            where = service.send_test(acting_user(), campaign)
            flash(f"Test sent to {where}.", "success")
        elif action == "schedule":
            form = ScheduleForm()
            try:
                at = datetime.fromisoformat((form.scheduled_at.data or "").strip())
            except ValueError:
                at = None
            service.schedule(acting_user(), campaign, at)
            flash("Campaign scheduled.", "success")
        elif action in ACTIONS:
            ACTIONS[action](acting_user(), campaign)
            flash(f"Campaign: {action} done.", "success")
        else:
            abort(404)
        db.session.commit()
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(url_for("campaigns.campaign_detail", campaign_id=campaign_id))


# --- development outbox ------------------------------------------------------------


@bp.get("/dev/outbox")
def outbox():
    """Development and tests only: what was mailed (the sink) and texted (sandbox)."""
    if current_app.config.get("ENV") == "production":
        abort(404)
    letters = mail.read_sink(mail.sink_dir(current_app))
    memory = list(reversed(getattr(current_app.extensions.get("mailman"), "outbox", []) or []))
    texts = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(100))
    return render_template(
        "campaigns/outbox.html", letters=letters, memory=memory, texts=list(texts)
    )


@bp.get("/dev/outbox/<key>")
def outbox_letter(key: str):
    if current_app.config.get("ENV") == "production":
        abort(404)
    found = [m for m in mail.read_sink(mail.sink_dir(current_app), limit=500) if m.key == key]
    if not found:
        abort(404)
    return render_template("campaigns/outbox_letter.html", letter=found[0])
