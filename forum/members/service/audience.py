"""Wallet facts for other features: as SQL expressions to compose into ONE statement
over members (campaigns' segments, a campaign batch's merge fields), each taking a
column holding a member id and never NULL (0 without a wallet), one member's store
credit, and what the members' programme spent on a set of orders (insight's costs)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, select

from ...extensions import db
from ..models import LedgerEntry, PerkGrant, Wallet
from .rules import rules

# Points the member earned for an order (and their reversals, which carry the order id),
# and points the member paid an order with (and what came back).
POINTS_GRANTED = ("earn:order", "points_reversed")
POINTS_REDEEMED = ("order_payment", "order_payment_returned")


def points_sql(user_id) -> ColumnElement[int]:
    return func.coalesce(
        select(Wallet.points)
        .where(Wallet.user_id == user_id)
        .correlate_except(Wallet)
        .scalar_subquery(),
        0,
    )


def credit_sql(user_id) -> ColumnElement[int]:
    return func.coalesce(
        select(Wallet.credit_cents)
        .where(Wallet.user_id == user_id)
        .correlate_except(Wallet)
        .scalar_subquery(),
        0,
    )


def credit_of(user_id: int) -> int:
    """The member's store credit balance in minor units (0 without a wallet)."""
    wallet = db.session.get(Wallet, user_id)
    return wallet.credit_cents if wallet else 0


def order_costs(order_ids) -> dict[str, int]:
    """What the members' ledgers spent on the orders in ``order_ids`` (ids or a subquery
    of them), reversals included, in two aggregates:

    ``perks_cents``: VIP perks granted on them (free shipping waived, rebates; reversals
    are negative grants); ``points_granted``: points earned for them, net;
    ``points_redeemed``: points the buyers paid them with, net of points returned (told,
    not costed: the orders' totals are already net of them, so the revenue measured has
    paid for them once); ``points_cents``: the points granted valued at the rules'
    ``points_per_unit`` (points worth 1.00), the liability the orders created.
    """
    perks = db.session.scalar(
        select(func.coalesce(func.sum(PerkGrant.amount_cents), 0)).where(
            PerkGrant.order_id.in_(order_ids)
        )
    )
    points = LedgerEntry.account == "points"
    row = db.session.execute(
        select(
            func.coalesce(
                func.sum(case((LedgerEntry.reason.in_(POINTS_GRANTED), LedgerEntry.amount))), 0
            ),
            func.coalesce(
                func.sum(case((LedgerEntry.reason.in_(POINTS_REDEEMED), -LedgerEntry.amount))), 0
            ),
        ).where(points, LedgerEntry.order_id.in_(order_ids))
    ).one()
    granted, redeemed = max(0, int(row[0])), max(0, int(row[1]))
    rate = rules().points_per_unit
    return {
        "perks_cents": int(perks or 0),
        "points_granted": granted,
        "points_redeemed": redeemed,
        "points_cents": granted * 100 // rate,
    }
