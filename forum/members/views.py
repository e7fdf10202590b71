"""Member pages: my membership, wallet, leaderboard; admin rules, grants and the VIP report."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..errors import ServiceError
from ..extensions import db
from ..permissions import acting_user
from ..web import form_status, run_form
from . import service
from .forms import AdjustForm, CheckInForm, GrantForm, PointsRuleForm, TierRulesForm

bp = Blueprint("members", __name__)

REASONS = {
    "welcome": "Welcome bonus",
    "order_payment": "Spent on an order",
    "order_payment_returned": "Given back from an order",
    "vip_rebate": "VIP rebate",
    "vip_rebate_reversed": "VIP rebate reversed (refund)",
    "points_expired": "Points expired",
    "points_reversed": "Points taken back (undone)",
    "post_earnings": "Your post earnings",
    "post_earnings_reversed": "Your post earnings reversed (refund)",
    "earn:order": "Earned by a completed order",
    "earn:review": "Earned by a review",
    "earn:report": "Earned by an experience report",
    "review_reward": "Review reward (store credit, the shop's top-up)",
    "report_reward": "Experience report reward (store credit, the shop's top-up)",
    "review_reward_reversed": "Review reward taken back",
    "report_reward_reversed": "Experience report reward taken back",
    "earn:checkin": "Earned by an event check-in",
    "earn:likes": "Earned by likes on your posts",
    "earn:accepted_answer": "Earned by an accepted answer",
    "earn:streak": "Daily visit streak",
}


def reason_text(reason: str) -> str:
    if reason.startswith("admin: "):
        return "From the team: " + reason.removeprefix("admin: ")
    return REASONS.get(reason, reason.replace("_", " ").capitalize())


def offer_audience(audience: str | None) -> dict | None:
    """For a widget or page: None when the viewer may buy, else what to show instead."""
    if not audience or audience == "all":
        return None
    user = current_user if current_user.is_authenticated else None
    if service.meets(service.current_tier(user), audience):
        return None
    return {
        "label": f"For {service.LABELS[audience]} members",
        "how": service.how_to_reach(audience, user),
        "url": url_for("members.membership"),
    }


def order_membership(order) -> dict:
    """For the order page: the tier move this order caused and its rebate."""
    rebate = service.order_rebate(order)
    change = service.change_for_order(order.buyer_id, order.id)
    return {
        "tier_change": change,
        "rebate": rebate,
        "rebate_cents": order.rebate_cents,
        "lock_days": service.rebate_lock_days(),
    }


def member_wallet() -> dict | None:
    """For the checkout page: what the viewer can spend."""
    if not current_user.is_authenticated:
        return None
    return {
        "credit_cents": service.available_credit(current_user.id),
        "points": service.available_points(current_user.id),
        "points_per_unit": service.rules().points_per_unit,
    }


def add_template_helpers(app) -> None:
    app.add_template_global(member_wallet, "member_wallet")
    app.add_template_global(offer_audience, "offer_audience")
    app.add_template_global(order_membership, "order_membership")
    app.add_template_filter(reason_text, "ledger_reason")


def _wallet_context(user_id: int) -> dict:
    before = request.args.get("before", type=int)
    entries = service.entries(user_id, before=before, limit=30)
    return {
        "entries": entries,
        "older": entries[-1].id if len(entries) == 30 else None,
        "credit_cents": service.available_credit(user_id),
        "pending_cents": service.pending_credit(user_id),
        "points": service.available_points(user_id),
    }


@bp.get("/membership")
@login_required
def membership():
    user = acting_user()
    return render_template(
        "members/membership.html",
        standing=service.standing(user.id),
        tier_since=service.tier_since(user.id),
        rules=service.rules(),
        lock_days=service.rebate_lock_days(),
        currency=service.site_currency(),
        history=service.history(user.id, limit=10),
        streak=service.streak_of(user.id),
        leaders=service.leaderboard(limit=5),
        checkin_form=CheckInForm(),
        **_wallet_context(user.id),
    )


@bp.post("/membership/check-in")
@login_required
def check_in():
    form = CheckInForm()
    if not form.validate_on_submit():
        abort(400)
    given = service.check_in(acting_user())
    db.session.commit()
    if given:
        flash(f"Checked in: {given} points for your streak.", "success")
    else:
        flash("You already checked in today.", "info")
    return redirect(url_for("members.membership"), 303)


@bp.get("/wallet")
@login_required
def wallet():
    user = acting_user()
    return render_template(
        "members/wallet.html", summary=service.summary(user), **_wallet_context(user.id)
    )


@bp.get("/leaderboard")
def leaderboard():
    return render_template("members/leaderboard.html", leaders=service.leaderboard(limit=25))


# --- admin -----------------------------------------------------------------------------


def _require_admin():
    if not current_user.has_role("admin"):
        abort(403)


@bp.route("/admin/members/tiers", methods=["GET", "POST"])
@login_required
def admin_tiers():
    _require_admin()
    rules = service.rules()
    form = TierRulesForm(obj=rules)
    if run_form(
        form,
        lambda: service.update_rules(
            acting_user(), **{name: form[name].data for name in service.DEFAULT_RULES}
        ),
    ):
        flash("Tier rules saved; the next evaluations use them.", "success")
        return redirect(url_for("members.admin_tiers"), 303)
    return render_template(
        "members/admin_tiers.html",
        form=form,
        points_rules=service.points_rules(),
        rule_form=PointsRuleForm(formdata=None),
        lock_days=service.rebate_lock_days(),
    ), form_status(form)


@bp.post("/admin/members/points-rules")
@login_required
def admin_points_rule():
    _require_admin()
    form = PointsRuleForm()
    if not form.validate_on_submit():
        flash("Give the points as a whole number (and a cap of 1 or more, or none).", "error")
        return redirect(url_for("members.admin_tiers"), 303)
    try:
        service.update_points_rule(
            acting_user(),
            form.rule.data,
            points=form.points.data,
            daily_cap=form.daily_cap.data,
            active=form.active.data,
        )
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        db.session.commit()
        flash("Points rule saved.", "success")
    return redirect(url_for("members.admin_tiers"), 303)


def _grant_tier(form, member) -> str:
    """The grant form's action; returns what to flash once it is saved."""
    change = service.grant(acting_user(), member, form.tier.data, form.reason.data)
    return f"{form.username.data} is now {change.tier}."


def _adjust_balance(form, member) -> str:
    """The adjustment form's action; returns what to flash once it is saved."""
    service.admin_adjust(
        acting_user(), member, form.account.data, form.amount.data, form.reason.data
    )
    return f"Added to {form.username.data}'s {form.account.data}."


@bp.route("/admin/members/grants", methods=["GET", "POST"])
@login_required
def admin_grants():
    _require_admin()
    from ..accounts import service as accounts

    grant_form = GrantForm(prefix="grant")
    adjust_form = AdjustForm(prefix="adjust")
    status = 200
    if request.method == "POST":
        # Two forms on one page: the grant's own field tells which one was sent.
        form, act = (
            (grant_form, _grant_tier)
            if "grant-reason" in request.form
            else (adjust_form, _adjust_balance)
        )
        done = run_form(form, lambda: act(form, accounts.get_by_username(form.username.data)))
        if done:
            flash(done.value, "success")
            return redirect(url_for("members.admin_grants"), 303)
        status = 422
    return render_template(
        "members/admin_grants.html",
        grant_form=grant_form,
        adjust_form=adjust_form,
        recent=service.recent_changes(limit=30),
    ), status


@bp.get("/admin/members/report")
@login_required
def admin_report():
    _require_admin()
    return render_template(
        "members/admin_report.html",
        report=service.vip_report(acting_user()),
        currency=service.site_currency(),
    )
