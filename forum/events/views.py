from datetime import date, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from ..accounts.models import User
from ..board import service as board
from ..embeds import preload
from ..errors import ServiceError
from ..extensions import db
from ..pagination import limit_from
from ..templating import viewer_zone
from ..web import form_status, run_form
from . import covers, ical, service
from .forms import CheckInForm, EventForm, MessageForm, colour_choices
from .schemas import cover_url, dump_signup_result

bp = Blueprint("events", __name__)

ICS_TYPE = "text/calendar; charset=utf-8"


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _refused(err: ServiceError, back: str):
    """A refused sign-up or check-in: JSON for the page's script, else a note shown on ``back``."""
    db.session.rollback()
    if _wants_json():
        return jsonify(err.to_dict()), err.status
    flash(err.message, "error")
    return redirect(back)


def _back_to(page: str, event_id: int, note: str, category: str = "success"):
    """After a change: say what happened and go back to the event's page (``"detail"``)
    or its host page (``"manage"``)."""
    flash(note, category)
    return redirect(url_for(f"events.{page}", event_id=event_id))


@bp.app_context_processor
def event_helpers():
    return {"event_cover_url": cover_url}


# --- listing -----------------------------------------------------------------------


@bp.get("/events")
def index():
    when = request.args.get("when", "upcoming")
    if when not in ("upcoming", "past"):
        abort(404)
    page = service.list_events(
        when, cursor=request.args.get("cursor"), limit=limit_from(request.args.get("limit"), 12)
    )
    counts = service.waitlist_counts([e.id for e in page.items])
    mine = {}
    if current_user.is_authenticated:
        mine = {s.event_id: s for s in service.my_signups(current_user)}
    return render_template("events/index.html", page=page, when=when, counts=counts, mine=mine)


@bp.get("/events/calendar")
def month():
    zone = viewer_zone()
    today = datetime.now(zone).date()
    raw = request.args.get("month", "")
    try:
        shown = datetime.strptime(raw, "%Y-%m").date() if raw else today.replace(day=1)
    except ValueError:
        abort(404)
    if not 1970 <= shown.year <= 2200:
        abort(404)
    weeks, by_day = service.month_grid(shown.year, shown.month, zone)
    previous = date(shown.year - (shown.month == 1), (shown.month - 2) % 12 + 1, 1)
    following = date(shown.year + (shown.month == 12), shown.month % 12 + 1, 1)
    return render_template(
        "events/calendar.html",
        shown=shown,
        weeks=weeks,
        by_day=by_day,
        today=today,
        zone=zone,
        previous=previous,
        following=following,
    )


# --- create and edit ---------------------------------------------------------------


def _prepare(form: EventForm) -> None:
    merchants = db.session.scalars(
        select(User).where(User.role == "merchant").order_by(User.username)
    ).all()
    form.sponsor_id.choices = [(0, "No sponsor")] + [(m.id, m.username) for m in merchants]
    form.cover_colour.choices = colour_choices()
    categories = board.list_categories(current_user)
    form.discussion_category.choices = [("", "Don't open a thread")] + [
        (c.slug, c.name) for c in categories
    ]


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=viewer_zone()) if value is not None else None


def _local(value: datetime | None) -> datetime | None:
    return value.astimezone(viewer_zone()).replace(tzinfo=None) if value is not None else None


def _same_minute(typed: datetime | None, stored: datetime | None) -> bool:
    return (
        typed is not None
        and stored is not None
        and typed == stored.replace(second=0, microsecond=0)
    )


def _values(form: EventForm) -> dict:
    return {
        "title": form.title.data,
        "description": form.description.data or "",
        "starts_at": _aware(form.starts_at.data),
        "ends_at": _aware(form.ends_at.data),
        "location": form.location.data or "",
        "online_url": form.online_url.data or None,
        "capacity": form.capacity.data,
        "signup_deadline": _aware(form.signup_deadline.data),
        "sponsor_id": form.sponsor_id.data or None,
        "cover_colour": form.cover_colour.data,
    }


def _upload(form: EventForm) -> bytes | None:
    """The uploaded cover's bytes (the service checks and stores them), or None."""
    upload = form.cover_image.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return covers.COVERS.read_limited(upload.stream)


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new():
    form = EventForm()
    _prepare(form)
    if request.method == "GET":
        meetups = [slug for slug, _ in form.discussion_category.choices if slug == "meetups"]
        form.discussion_category.data = meetups[0] if meetups else ""

    def create():
        return service.create_event(
            current_user,
            discussion_category=form.discussion_category.data or None,
            cover_image=_upload(form),
            **_values(form),
        )

    done = run_form(form, create)
    if done:
        flash(
            f"Your event is live. Share it with [[event:{done.value.id}]] in posts and chat.",
            "success",
        )
        return redirect(url_for("events.detail", event_id=done.value.id))
    return render_template(
        "events/form.html", form=form, event=None, zone=viewer_zone()
    ), form_status(form)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    event = service.get_event(event_id)
    service.check_host(current_user, event)
    form = EventForm(obj=event)
    _prepare(form)
    del form.discussion_category
    if request.method == "GET":
        form.starts_at.data = _local(event.starts_at)
        form.ends_at.data = _local(event.ends_at)
        form.signup_deadline.data = _local(event.signup_deadline)
        form.sponsor_id.data = event.sponsor_request_id or event.paying_sponsor_id or 0

    def update():
        values = _values(form)
        # The form shows minutes only: a time left as it was keeps its stored value.
        for name in ("starts_at", "ends_at", "signup_deadline"):
            if _same_minute(values[name], getattr(event, name)):
                values[name] = getattr(event, name)
        service.update_event(current_user, event, cover_image=_upload(form), **values)

    if run_form(form, update):
        return _back_to("detail", event.id, "Event updated.")
    return render_template(
        "events/form.html", form=form, event=event, zone=viewer_zone()
    ), form_status(form)


@bp.post("/events/<int:event_id>/call-off")
@login_required
def call_off(event_id: int):
    event = service.get_event(event_id)
    service.cancel_event(current_user, event, request.form.get("reason", ""))
    db.session.commit()
    return _back_to("detail", event.id, "The event is cancelled; participants were told.")


# --- sponsorship: the merchant accepts (or declines) what a host asked -----------------


@bp.get("/merchant/sponsorships")
@login_required
def sponsorships():
    if not current_user.has_role("merchant"):
        abort(403)
    return render_template(
        "events/sponsorships.html", **service.sponsorships_of(current_user._get_current_object())
    )


_SPONSOR_ACTIONS = {
    "accept": (service.accept_sponsorship, "You now sponsor this event."),
    "decline": (service.decline_sponsorship, "Sponsorship declined."),
    "end": (service.end_sponsorship, "The sponsorship has ended."),
}


@bp.post("/events/<int:event_id>/sponsorship/<action>")
@login_required
def sponsorship(event_id: int, action: str):
    if action not in _SPONSOR_ACTIONS:
        abort(404)
    event = service.get_event(event_id)
    act, done = _SPONSOR_ACTIONS[action]
    back = (
        url_for("events.sponsorships")
        if request.form.get("back") == "sponsorships"
        else url_for("events.detail", event_id=event_id)
    )
    try:
        act(current_user._get_current_object(), event)
    except ServiceError as err:
        return _refused(err, back)
    db.session.commit()
    flash(done, "success")
    return redirect(back)


# --- the event page and sign-ups ---------------------------------------------------


@bp.get("/events/<int:event_id>")
def detail(event_id: int):
    event = service.get_event(event_id)
    signup = service.find_signup(event, current_user)
    position = service.waitlist_position(signup) if signup else None
    preload([event.description_html])
    return render_template(
        "events/detail.html",
        event=event,
        signup=signup,
        position=position,
        waitlist=service.waitlist_count(event),
        messages=service.messages_for(current_user, event),
        is_host=service.is_host(current_user, event),
        attendance=service.attendance_of(signup) if signup else None,
    )


@bp.post("/events/<int:event_id>/signup")
@login_required
def signup(event_id: int):
    event = service.get_event(event_id)
    try:
        result = service.sign_up(
            current_user, event, idempotency_key=request.headers.get("Idempotency-Key")
        )
    except ServiceError as err:
        return _refused(err, url_for("events.detail", event_id=event_id))
    db.session.commit()
    if _wants_json():
        return jsonify({**dump_signup_result(result), **service.seats_payload(event)}), 201
    if result.status == "confirmed":
        return _back_to("detail", event_id, "You're in! Your check-in code is on the event page.")
    return _back_to(
        "detail", event_id, f"The event is full; you're #{result.position} on the waitlist.", "info"
    )


@bp.post("/events/<int:event_id>/cancel")
@login_required
def cancel(event_id: int):
    event = service.get_event(event_id)
    try:
        service.cancel_signup(current_user, event)
    except ServiceError as err:
        return _refused(err, url_for("events.detail", event_id=event_id))
    db.session.commit()
    if _wants_json():
        return jsonify({"status": "cancelled", **service.seats_payload(event)})
    return _back_to("detail", event_id, "Your sign-up is cancelled.")


@bp.get("/events/<int:event_id>/ticket")
@login_required
def ticket(event_id: int):
    event = service.get_event(event_id)
    signup = service.find_signup(event, current_user)
    if signup is None or not signup.is_active:
        abort(404)
    return render_template(
        "events/ticket.html",
        event=event,
        signup=signup,
        position=service.waitlist_position(signup),
        checkin_url=url_for(
            "events.manage", event_id=event.id, code=signup.checkin_code, _external=True
        ),
    )


# --- host tools --------------------------------------------------------------------


@bp.get("/events/<int:event_id>/manage")
@login_required
def manage(event_id: int):
    event = service.get_event(event_id)
    checkin_form = CheckInForm()
    if request.args.get("code"):
        checkin_form.code.data = service.normalize_code(request.args["code"])
    return _manage_page(event, checkin_form=checkin_form)


@bp.post("/events/<int:event_id>/checkin")
@login_required
def check_in(event_id: int):
    event = service.get_event(event_id)
    form = CheckInForm()
    code = form.code.data if form.validate_on_submit() else request.form.get("code", "")
    try:
        signup = service.check_in(current_user, event, code)
    except ServiceError as err:
        return _refused(err, url_for("events.manage", event_id=event_id))
    db.session.commit()
    if _wants_json():
        return jsonify(
            {"signup_id": signup.id, "username": signup.user.username, "checked_in": True}
        )
    return _back_to("manage", event_id, f"{signup.user.username} is checked in.")


@bp.post("/events/<int:event_id>/checkin/<int:signup_id>/undo")
@login_required
def undo_check_in(event_id: int, signup_id: int):
    event = service.get_event(event_id)
    signup = service.undo_check_in(current_user, event, signup_id)
    db.session.commit()
    return _back_to("manage", event_id, f"Check-in of {signup.user.username} undone.")


@bp.post("/events/<int:event_id>/remove/<int:user_id>")
@login_required
def remove(event_id: int, user_id: int):
    event = service.get_event(event_id)
    service.remove_participant(current_user, event, user_id, request.form.get("reason", ""))
    db.session.commit()
    return _back_to(
        "manage", event_id, "Participant removed; the next on the waitlist got the seat."
    )


@bp.post("/events/<int:event_id>/message")
@login_required
def message(event_id: int):
    event = service.get_event(event_id)
    service.check_host(current_user, event)
    form = MessageForm()
    done = run_form(form, lambda: service.message_participants(current_user, event, form.body.data))
    if done:
        return _back_to(
            "manage", event_id, f"Message sent to {done.value.recipients} participants."
        )
    return _manage_page(event, message_form=form), 422


def _manage_page(event, *, checkin_form=None, message_form=None) -> str:
    """The host's page: participants, check-in, and messages to everyone (a form given
    is shown as it is, with its data and errors)."""
    return render_template(
        "events/manage.html",
        event=event,
        people=service.participants(current_user, event),
        checkin_form=CheckInForm() if checkin_form is None else checkin_form,
        message_form=MessageForm() if message_form is None else message_form,
        messages=service.messages_for(current_user, event),
    )


# --- calendars and files -----------------------------------------------------------


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = ICS_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/events/<int:event_id>.ics")
def ics(event_id: int):
    event = service.get_event(event_id)
    return _ics(ical.event_file(event), f"plaza-event-{event.id}.ics")


@bp.get("/events/feed/<token>.ics")
def feed(token: str):
    user = service.user_for_feed(token)
    if user is None:
        abort(404)
    response = _ics(ical.member_feed(user.username, service.my_signups(user)), "plaza-events.ics")
    response.headers["Content-Disposition"] = 'inline; filename="plaza-events.ics"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/events/mine")
@login_required
def mine():
    feed_row = service.feed_of(current_user)
    signups = service.my_signups(current_user)
    positions = {s.id: service.waitlist_position(s) for s in signups}
    return render_template(
        "events/mine.html",
        signups=signups,
        positions=positions,
        feed_url=url_for("events.feed", token=feed_row.token, _external=True) if feed_row else None,
        attendance={s.id: service.attendance_of(s) for s in signups},
    )


@bp.post("/events/mine/feed/reset")
@login_required
def reset_feed():
    had_one = service.feed_of(current_user) is not None
    service.feed_for(current_user, reset=True)
    db.session.commit()
    if had_one:
        flash("Your calendar address changed; the old one no longer works.", "success")
    else:
        flash("Your calendar address is ready.", "success")
    return redirect(url_for("events.mine"))


@bp.get("/events/covers/<name>")
def cover(name: str):
    return covers.COVERS.send(name)
