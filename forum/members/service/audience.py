"""Wallet facts for other features: as SQL expressions to compose into ONE statement
over members (campaigns' segments, a campaign batch's merge fields), each taking a
column holding a member id and never NULL (0 without a wallet), one member's store
credit, and what the members' programme spent on a set of orders (insight's costs), and
the coupons' uses as one SELECT (insight's roll-up)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, case, func, literal, select

from ...extensions import db
from ..coupons.models import Coupon, CouponRedemption
from ..coupons.service import normalise_code
from ..models import LedgerEntry, PerkGrant, Wallet
from .rules import rules

# Points the member earned for an order (and their reversals, which carry the order id),
# and points the member paid an order with (and what came back).
POINTS_GRANTED = ("earn:order", "points_reversed")
POINTS_REDEEMED = ("order_payment", "order_payment_returned")


def _wallet_sql(balance, user_id) -> ColumnElement[int]:
    """The ``balance`` column of the member's wallet, 0 without a wallet."""
    return func.coalesce(
        select(balance).where(Wallet.user_id == user_id).correlate_except(Wallet).scalar_subquery(),
        0,
    )


def points_sql(user_id) -> ColumnElement[int]:
    return _wallet_sql(Wallet.points, user_id)


def credit_sql(user_id) -> ColumnElement[int]:
    return _wallet_sql(Wallet.credit_cents, user_id)


def credit_of(user_id: int) -> int:
    """The member's store credit balance in minor units (0 without a wallet)."""
    wallet = db.session.get(Wallet, user_id)
    return wallet.credit_cents if wallet else 0


def order_costs(order_ids: Select) -> dict[str, int]:
    """What the members' ledgers spent on the orders ``SELECT order_id`` names, reversals
    included: ``order_costs_by`` with one key for them all."""
    inner = order_ids.subquery()
    keyed = select(literal("all").label("kind"), literal(0).label("ident"), inner.c.order_id)
    return order_costs_by(keyed).get(("all", 0), dict(NOTHING_SPENT))


NOTHING_SPENT = {"perks_cents": 0, "points_granted": 0, "points_redeemed": 0, "points_cents": 0}


def order_costs_by(keyed) -> dict[tuple[str, int], dict[str, int]]:
    """What the members' ledgers spent on orders, per key: ``keyed`` is a statement of
    ``kind, ident, order_id`` (an order counted once per key), in two aggregates:

    ``perks_cents``: VIP perks granted on them (free shipping waived, rebates; reversals
    are negative grants); ``points_granted``: points earned for them, net;
    ``points_redeemed``: points the buyers paid them with, net of points returned (told,
    not costed: the orders' totals are already net of them, so the revenue measured has
    paid for them once); ``points_cents``: the points granted valued at the rules'
    ``points_per_unit`` (points worth 1.00), the liability the orders created.
    """
    inner = keyed.subquery()
    orders = select(inner.c.kind, inner.c.ident, inner.c.order_id).distinct().subquery()
    found: dict[tuple[str, int], dict[str, int]] = {}

    def entry(kind, ident) -> dict[str, int]:
        return found.setdefault((kind, int(ident)), dict(NOTHING_SPENT))

    for kind, ident, perks in db.session.execute(
        select(orders.c.kind, orders.c.ident, func.sum(PerkGrant.amount_cents))
        .join(PerkGrant, PerkGrant.order_id == orders.c.order_id)
        .group_by(orders.c.kind, orders.c.ident)
    ):
        entry(kind, ident)["perks_cents"] = int(perks or 0)
    rate = rules().points_per_unit
    for kind, ident, granted, redeemed in db.session.execute(
        select(
            orders.c.kind,
            orders.c.ident,
            func.coalesce(
                func.sum(case((LedgerEntry.reason.in_(POINTS_GRANTED), LedgerEntry.amount))), 0
            ),
            func.coalesce(
                func.sum(case((LedgerEntry.reason.in_(POINTS_REDEEMED), -LedgerEntry.amount))), 0
            ),
        )
        .join(LedgerEntry, LedgerEntry.order_id == orders.c.order_id)
        .where(LedgerEntry.account == "points")
        .group_by(orders.c.kind, orders.c.ident)
    ):
        spent = entry(kind, ident)
        spent["points_granted"] = max(0, int(granted))
        spent["points_redeemed"] = max(0, int(redeemed))
        spent["points_cents"] = spent["points_granted"] * 100 // rate
    return found


def coupon_uses_sql(codes) -> Select:
    """``SELECT coupon_id, code, user_id, order_id, discount_cents, live, at`` of every use of
    the coupons with these ``codes`` (normalised here), released ones too (``live``
    false): insight's roll-up keys ``coupon_facts``' discount and orders, and a
    campaign's ``coupon_discount_by`` / ``coupon_orders_by``, from this one SELECT."""
    clean = sorted({code for code in map(normalise_code, codes) if code})
    return (
        select(
            Coupon.id.label("coupon_id"),
            Coupon.code.label("code"),
            CouponRedemption.user_id.label("user_id"),
            CouponRedemption.order_id.label("order_id"),
            CouponRedemption.discount_cents.label("discount_cents"),
            (CouponRedemption.state == "active").label("live"),
            CouponRedemption.created_at.label("at"),
        )
        .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
        .where(Coupon.code.in_(clean))
    )
