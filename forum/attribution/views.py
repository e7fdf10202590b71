"""Pages: the tracked-link redirect, the funnel reports, merchant settings, earnings, payouts."""

import logging
from datetime import timedelta
from decimal import Decimal

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
from sqlalchemy.exc import SQLAlchemyError

from ..accounts.service import ProfileStat
from ..clock import now
from ..errors import ServiceError
from ..extensions import db
from ..markup import EmbedRef
from ..web import apply_service_error
from . import impressions, links, reports, service
from .forms import PayoutForm, SettingsForm

bp = Blueprint("attribution", __name__)
log = logging.getLogger(__name__)

DEFAULT_DAYS = 30


@bp.after_app_request
def count_impressions(response):
    return impressions.flush(response)


def _visit(link: links.TrackedLink) -> str | None:
    """Record a visit of ``link`` by whoever is asking; returns the visitor id to keep in the cookie.

    Only what the click policy (``service.counts_as_click``) calls a reader's click
    is recorded and gets the cookie: not crawlers, not other sites sending readers
    through our links, not an image or other sub-resource pointing at the link.
    """
    user_agent = request.headers.get("User-Agent")
    if service.is_bot(user_agent) or not service.counts_as_click(request.method, request.headers):
        return None
    visitor = links.visitor_id() or links.new_visitor_id()
    try:
        service.record_click(
            link,
            user_id=current_user.id if current_user.is_authenticated else None,
            visitor_id=visitor,
            ip=request.remote_addr,
            user_agent=user_agent,
        )
        db.session.commit()
    except SQLAlchemyError:  # the reader still gets where they were going
        db.session.rollback()
        log.exception("attribution: could not record a click")
    return visitor


def _keep(response, visitor: str | None):
    response.headers["Cache-Control"] = "no-store"
    if visitor:
        links.set_visitor_cookie(response, visitor, int(service.setting("ATTRIBUTION_WINDOW_DAYS")))
    return response


@bp.get("/go/<token>")
def go(token: str):
    """Record the click, set the attribution cookie, send the reader on to the offer.

    A token we did not sign leads to the "offer unavailable" page and records nothing.
    """
    link = links.read(token)
    if link is None:
        return redirect(url_for("pages.offer_unavailable"))
    visitor = _visit(link)
    return _keep(redirect(link.url), visitor)


@bp.post("/go/<token>")
def touch(token: str):
    """A widget acting in place (signing up from the card) records its click without the trip.

    Same-origin scripts call it with the widget's href (CSRF applies, so no other
    site can record touches for a reader). 404 for a token we did not sign.
    """
    link = links.read(token)
    if link is None:
        return jsonify(
            {"error": {"code": "not_found", "message": "Unknown link.", "fields": {}}}
        ), 404
    visitor = _visit(link)
    return _keep(jsonify({"recorded": visitor is not None}), visitor)


@bp.get("/attribution")
@login_required
def hub():
    if current_user.is_admin:
        return redirect(url_for("attribution.admin_report"))
    if current_user.has_role("merchant"):
        return redirect(url_for("attribution.merchant_report"))
    return redirect(url_for("attribution.earnings"))


# --- an author's earnings --------------------------------------------------------


@bp.get("/me/earnings")
@login_required
def earnings():
    page = service.earnings(current_user.id, cursor=request.args.get("cursor"), limit=25)
    titles = reports.post_titles(
        [i.credit.source_id for i in page.items if i.credit.source_kind == "post"]
    )
    offers = service.offer_labels(
        list({EmbedRef(i.credit.embed_kind, i.credit.embed_id) for i in page.items})
    )
    return render_template(
        "attribution/earnings.html",
        page=page,
        summary=service.earnings_summary(current_user.id),
        titles=titles,
        offers=offers,
        EmbedRef=EmbedRef,
        share_bp=int(service.setting("ATTRIBUTION_AUTHOR_SHARE_BP")),
        lock_days=int(service.setting("ATTRIBUTION_LOCK_DAYS")),
    )


def posts_earned(user, *, viewer, **_) -> ProfileStat | None:
    """``signals.profile_shown``: the member sees what their posts earned; everyone sees
    how many orders they led to."""
    summary = service.earnings_summary(user.id)
    if getattr(viewer, "id", None) == user.id and (
        summary["conversions"] or summary["earned_cents"]
    ):
        from ..templating import money

        return ProfileStat(
            "Your posts earned", money(summary["earned_cents"]), url_for("attribution.earnings")
        )
    if summary["orders"]:
        return ProfileStat("Orders via posts", f"{summary['orders']:,}")
    return None


# --- reports ----------------------------------------------------------------------


def _range():
    start, end = reports.parse_range(request.args.get("from"), request.args.get("to"))
    today = now().date()
    end = end or today
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


def _group(allowed) -> str:
    group = request.args.get("group_by", "post")
    if group not in allowed:
        abort(404)
    return group


def _report_page(scope: str, merchant_id: int | None, groups):
    try:
        start, end = _range()
    except ServiceError as err:
        flash(err.message, "error")
        start, end = now().date() - timedelta(days=DEFAULT_DAYS - 1), now().date()
    group = _group(groups)
    report = reports.funnel(group, merchant_id=merchant_id, start=start, end=end)
    series = reports.daily_series(merchant_id, start, end)
    context = {
        "scope": scope,
        "report": report,
        "series": series,
        "groups": groups,
        "group_by": group,
        "start": start,
        "end": end,
        "balances": service.balances(merchant_id),
        "currency": service.settings_of(merchant_id).currency if merchant_id else "USD",
        "lock_days": int(service.setting("ATTRIBUTION_LOCK_DAYS")),
    }
    if scope == "admin":
        context["payouts"] = service.recent_payouts()
        context["payout_form"] = PayoutForm()
    else:
        context["settings"] = service.settings_of(merchant_id)
        context["held"] = service.held_signups(merchant_id)
    return render_template("attribution/report.html", **context)


def _csv(merchant_id: int | None, groups, filename: str):
    group = _group(groups)
    try:
        start, end = reports.parse_range(request.args.get("from"), request.args.get("to"))
    except ServiceError as err:
        abort(422, err.message)
    body = reports.to_csv(reports.funnel(group, merchant_id=merchant_id, start=start, end=end))
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}-{group}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _require_merchant():
    if not current_user.has_role("merchant"):
        abort(403)


def _require_admin():
    if not current_user.is_admin:
        abort(403)


@bp.get("/merchant/attribution")
@login_required
def merchant_report():
    _require_merchant()
    return _report_page("merchant", current_user.id, reports.MERCHANT_GROUPS)


@bp.get("/merchant/attribution.csv")
@login_required
def merchant_csv():
    _require_merchant()
    return _csv(current_user.id, reports.MERCHANT_GROUPS, "attribution")


@bp.post("/merchant/attribution/signups/<int:user_id>/<decision>")
@login_required
def review_signup(user_id: int, decision: str):
    """Approve (pay the CPA) or reject a held sign-up from the report page."""
    _require_merchant()
    if decision not in ("approve", "reject"):
        abort(404)
    try:
        service.review_signup(
            current_user._get_current_object(), user_id, approve=decision == "approve"
        )
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        flash("Sign-up approved." if decision == "approve" else "Sign-up rejected.", "success")
    return redirect(url_for("attribution.merchant_report") + "#held-signups"), 303


@bp.route("/merchant/attribution/settings", methods=["GET", "POST"])
@login_required
def merchant_settings():
    _require_merchant()
    settings = service.settings_of(current_user.id)
    form = SettingsForm()
    if not form.is_submitted():
        form.cps_rate_percent.data = Decimal(settings.cps_rate_bp) / 100
        for kind in service.CPA_FIELDS:
            getattr(form, f"cpa_{kind}").data = Decimal(settings.cpa_cents(kind)) / 100
        form.model.data = settings.model
        form.currency.data = settings.currency
    if form.validate_on_submit():
        try:
            service.update_settings(
                current_user._get_current_object(),
                cps_rate_bp=int(form.cps_rate_percent.data * 100),
                cpa_cents={
                    kind: int(getattr(form, f"cpa_{kind}").data * 100)
                    for kind in service.CPA_FIELDS
                },
                model=form.model.data,
                currency=form.currency.data,
            )
        except ServiceError as err:
            db.session.rollback()
            apply_service_error(form, err)
        else:
            db.session.commit()
            flash("Commission settings saved.", "success")
            return redirect(url_for("attribution.merchant_settings"))
    status = 422 if form.is_submitted() else 200
    return render_template("attribution/settings.html", form=form, settings=settings), status


@bp.get("/admin/attribution")
@login_required
def admin_report():
    _require_admin()
    return _report_page("admin", None, reports.GROUPS)


@bp.get("/admin/attribution.csv")
@login_required
def admin_csv():
    _require_admin()
    return _csv(None, reports.GROUPS, "attribution-all")


@bp.post("/admin/attribution/payouts")
@login_required
def pay_out():
    _require_admin()
    form = PayoutForm()
    if not form.validate_on_submit():
        flash("Choose a merchant to pay.", "error")
        return redirect(url_for("attribution.admin_report")), 303
    try:
        payouts = service.pay_out(current_user._get_current_object(), form.merchant_id.data)
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        from ..templating import money

        paid = ", ".join(money(p.total_cents, p.currency) for p in payouts)
        flash(f"Paid out {paid}.", "success")
    return redirect(url_for("attribution.admin_report")), 303
