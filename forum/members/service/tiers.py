"""Tiers from behaviour: registered -> shopper -> VIP, the grace period, manual grants.

A member's tier is computed from their completed orders (``standing``), so checkout
perks are right even when the periodic job has not run; ``evaluate`` stores it and,
when it moved, writes a ``TierChange`` row, notifies the member and sends
``signals.tier_changed``. Rules (``rules.rules()``):

- shopper: at least ``shopper_min_orders`` completed orders, ever;
- VIP: at least ``vip_min_orders`` completed orders or ``vip_min_spend_cents`` spent on
  completed orders within the last ``window_days`` (a 0 switches that test off);
  VIP is kept ``vip_grace_days`` after the day the orders stopped qualifying;
- a manual grant (admin, with a reason) lifts the member to its tier for
  ``manual_grant_days``; it never lowers what behaviour earned.

Refunded orders never count, so VIP earned only by orders later refunded has no grace.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import bindparam, literal, select, true

from ... import signals
from ...accounts import service as accounts
from ...clock import now
from ...database import prepared
from ...errors import ValidationFailed, field_error
from ...extensions import db
from ...money import format_minor
from ...notifications import service as notifications
from ...shop_embed import service as shop
from ..models import TIERS, Membership, TierChange, TierRules
from .rules import check_admin, remember_rules, rules, site_currency

RANK = {tier: n for n, tier in enumerate(TIERS)}
LABELS = {"registered": "Registered", "shopper": "Shopper", "vip": "VIP"}


@dataclass
class Standing:
    tier: str  # what the member is now (behaviour, grace or grant)
    earned_tier: str  # from behaviour alone (with grace)
    completed_orders: int  # in the window
    spend_cents: int  # in the window
    lifetime_orders: int
    vip_until: datetime | None  # end of the grace period of behaviour-earned VIP
    in_grace: bool
    manual_tier: str | None
    manual_until: datetime | None
    next_tier: str | None
    missing: dict = field(default_factory=dict)


@prepared
def _standing_statement():
    """The rules row, the member's membership row and their completed purchases (the
    shop's ``completed_purchases_query``), newest first, in one statement: one row per
    purchase (or one row of NULLs), each carrying the two rows (or NULLs when missing)."""
    user_id = bindparam("user_id")
    purchases = shop.completed_purchases_query(user_id, bindparam("until")).subquery()
    one = select(literal(1).label("one")).subquery("one")
    return (
        select(TierRules, Membership, *purchases.c)
        .select_from(one)
        .outerjoin(TierRules, TierRules.id == 1)
        .outerjoin(Membership, Membership.user_id == user_id)
        .outerjoin(purchases, true())
        .order_by(purchases.c.completed_at.desc())
    )


def _read_standing(user_id: int, at: datetime):
    """(rules, membership or None, (completed_at, spend) of each completed order newest
    first): what ``standing`` reckons with, read in one statement (a checkout asks for the
    tier on every order). The rules are remembered for the rest of the transaction."""
    rows = db.session.execute(_standing_statement(), {"user_id": user_id, "until": at}).all()
    found_rules, membership = rows[0][0], rows[0][1]
    orders = [shop.purchase_of(row) for row in rows if row.completed_at is not None]
    return remember_rules(found_rules), membership, orders


def standing(user_id: int, at: datetime | None = None) -> Standing:
    """Where the member stands now: tier, window figures and what is missing (read-only)."""
    at = at or now()
    r, membership, orders = _read_standing(user_id, at)
    window = timedelta(days=r.window_days)
    recent = [(when, spend) for when, spend in orders if when > at - window]
    count, spend = len(recent), sum(s for _, s in recent)
    # When the orders stop qualifying for VIP: the k-th newest order leaving the window,
    # or the order that brings the newest spend to the minimum leaving it.
    qualifies_until = None
    if r.vip_min_orders and len(orders) >= r.vip_min_orders:
        qualifies_until = orders[r.vip_min_orders - 1][0] + window
    if r.vip_min_spend_cents:
        running = 0
        for when, cents in orders:
            running += cents
            if running >= r.vip_min_spend_cents:
                until = when + window
                qualifies_until = max(qualifies_until or until, until)
                break
    vip_until = qualifies_until + timedelta(days=r.vip_grace_days) if qualifies_until else None
    if vip_until is not None and at < vip_until:
        earned = "vip"
    elif len(orders) >= r.shopper_min_orders:
        earned = "shopper"
    else:
        earned = "registered"
    manual, manual_until = None, None
    if (
        membership
        and membership.manual_tier
        and membership.manual_until
        and membership.manual_until > at
    ):
        manual, manual_until = membership.manual_tier, membership.manual_until
    tier = max(earned, manual or "registered", key=RANK.get)
    result = Standing(
        tier=tier,
        earned_tier=earned,
        completed_orders=count,
        spend_cents=spend,
        lifetime_orders=len(orders),
        vip_until=vip_until if earned == "vip" else None,
        in_grace=earned == "vip" and (qualifies_until is None or qualifies_until <= at),
        manual_tier=manual,
        manual_until=manual_until,
        next_tier=None,
    )
    if tier == "registered":
        result.next_tier = "shopper"
        result.missing = {"orders": max(r.shopper_min_orders - len(orders), 0)}
    elif tier == "shopper" or result.in_grace:
        result.next_tier = "vip" if tier == "shopper" else None
        if tier == "shopper":
            if r.vip_min_orders:
                result.missing["orders"] = max(r.vip_min_orders - count, 0)
            if r.vip_min_spend_cents:
                result.missing["spend_cents"] = max(r.vip_min_spend_cents - spend, 0)
    return result


def current_tier(user) -> str:
    """The tier perks and audiences use: computed now, never older than the stored one."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "registered"
    return standing(user.id).tier


def how_to_reach(tier: str, user=None) -> str:
    """One sentence: how a member gets to ``tier`` (for "for VIP members" notices)."""
    r = rules()
    if tier == "shopper":
        return "Complete your first order to become a shopper."
    ways = []
    if r.vip_min_orders:
        ways.append(f"complete {r.vip_min_orders} orders")
    if r.vip_min_spend_cents:
        ways.append(f"spend {format_minor(r.vip_min_spend_cents, site_currency())}")
    sentence = f"Become VIP: {' or '.join(ways)} within {r.window_days} days."
    if user is not None and getattr(user, "is_authenticated", False):
        missing = standing(user.id).missing
        parts = []
        if missing.get("orders"):
            parts.append(f"{missing['orders']} more order{'s' if missing['orders'] != 1 else ''}")
        if missing.get("spend_cents"):
            parts.append(f"{format_minor(missing['spend_cents'], site_currency())} more spend")
        if parts:
            sentence += f" You need {' or '.join(parts)}."
    return sentence


def meets(tier: str, audience: str | None) -> bool:
    if not audience or audience == "all":
        return True
    return RANK.get(tier, 0) >= RANK.get(audience, len(TIERS))


def _membership(user_id: int) -> Membership:
    row = db.session.get(Membership, user_id)
    if row is None:
        row = Membership(user_id=user_id, tier="registered", tier_since=now())
        db.session.add(row)
        db.session.flush()
    return row


def evaluate(user, *, reason: str, order_id: int | None = None, actor=None) -> str:
    """Recompute ``user``'s tier and store it; returns it.

    When it moved: a ``TierChange`` row, the stored tier (accounts' ``User.tier``), a
    notification and ``signals.tier_changed``, all in the caller's transaction.
    """
    found = standing(user.id)
    membership = db.session.get(Membership, user.id)
    stored = membership.tier if membership else "registered"
    if found.tier == stored:
        if user.tier != stored:
            accounts.set_tier(user, stored)
        return stored
    membership = _membership(user.id)
    at = now()
    old = membership.tier
    db.session.add(
        TierChange(
            user_id=user.id,
            from_tier=old,
            to_tier=found.tier,
            reason=reason[:200],
            order_id=order_id,
            actor_id=getattr(actor, "id", None),
            created_at=at,
        )
    )
    membership.tier, membership.tier_since, membership.evaluated_at = found.tier, at, at
    accounts.set_tier(user, found.tier)
    db.session.flush()
    _notify(user, old, found.tier)
    signals.tier_changed.send(user, old=old, new=found.tier, reason=reason, order_id=order_id)
    return found.tier


def _notify(user, old: str, new: str) -> None:
    r = rules()
    if new == "vip":
        perks = []
        if r.vip_free_shipping:
            perks.append("free shipping")
        if r.vip_rebate_bp:
            perks.append(f"{r.vip_rebate_bp / 100:g}% back as store credit")
        text = "You are now VIP" + (f": {' and '.join(perks)} on your orders." if perks else ".")
    elif RANK[new] > RANK[old]:
        text = f"You are now a {LABELS[new].lower()}."
    else:
        text = f"Your membership is now {LABELS[new]}."
    notifications.notify(user.id, "tier_changed", text, _membership_url())


def _membership_url() -> str:
    try:
        return url_for("members.membership")
    except RuntimeError:  # no request (a job): the path itself
        return "/membership"


def grant(actor, user, tier, reason) -> Standing:
    """A manual grant (admin): lift ``user`` to ``tier`` for ``manual_grant_days``,
    with a reason kept in the history; ``registered`` ends a grant. Raises Forbidden
    or ValidationFailed (nothing written)."""
    check_admin(actor)
    if tier not in TIERS:
        raise field_error("tier", f"Choose one of {', '.join(TIERS)}.")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not 3 <= len(reason) <= 160:
        raise ValidationFailed(fields={"reason": ["Say why, in 3 to 160 characters."]})
    membership = _membership(user.id)
    if tier == "registered":
        membership.manual_tier, membership.manual_until = None, None
    else:
        membership.manual_tier = tier
        membership.manual_until = now() + timedelta(days=rules().manual_grant_days)
    membership.manual_reason = reason
    db.session.flush()
    evaluate(user, reason=f"manual: {reason}", actor=actor)
    return standing(user.id)


def evaluate_all(limit: int = 5000) -> int:
    """The periodic job: re-evaluate every member with a membership or an order.
    Returns how many tiers moved. Idempotent (an unchanged tier writes nothing)."""
    from ...accounts.models import User

    ids = set(db.session.scalars(select(Membership.user_id).limit(limit)))
    ids |= shop.buyer_ids(limit)
    moved = 0
    for user_id in sorted(ids):
        user = db.session.get(User, user_id)
        if user is None:
            continue
        before = user.tier
        if evaluate(user, reason="periodic") != before:
            moved += 1
    return moved


def history(user_id: int, limit: int = 20) -> list[TierChange]:
    """The member's tier moves, newest first by when they happened (rows written later
    for an earlier moment, as backfilled history is, still sort by their date)."""
    return list(
        db.session.scalars(
            select(TierChange)
            .where(TierChange.user_id == user_id)
            .order_by(TierChange.created_at.desc(), TierChange.id.desc())
            .limit(limit)
        )
    )


def recent_changes(limit: int = 30) -> list[tuple[TierChange, str]]:
    """The latest tier moves of everyone, with the member's username (admin page)."""
    from ...accounts.models import User

    return [
        (change, username)
        for change, username in db.session.execute(
            select(TierChange, User.username)
            .join(User, User.id == TierChange.user_id)
            .order_by(TierChange.id.desc())
            .limit(limit)
        ).all()
    ]


def change_for_order(user_id: int, order_id: int) -> TierChange | None:
    """The tier move an order caused (for "You are now VIP" on its page)."""
    return db.session.scalar(
        select(TierChange)
        .where(TierChange.user_id == user_id, TierChange.order_id == order_id)
        .order_by(TierChange.id.desc())
        .limit(1)
    )


def tier_since(user_id: int) -> datetime | None:
    membership = db.session.get(Membership, user_id)
    return membership.tier_since if membership else None
