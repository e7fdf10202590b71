"""What members bought, for other features (tiers, the VIP report, coupons' rules and
figures): read-only facts about orders, so nobody outside the shop queries its Order.

A purchase's spend is its merchandise after discounts and refunds, never shipping or
tenders (credit, points); the rule lives here, beside the orders it reads.
"""

from datetime import datetime

from sqlalchemy import func, select

from ...clock import now
from ...extensions import db
from ..models import NOT_DISCOUNTS, Order
from .common import PAID_STATUSES

# An order still unpaid but payable (before its deadline, or held without one) counts as
# ordered, as does a paid one; cancelled and refunded orders do not.
UNPAID_STATUSES = ("pending", "held")


def merchandise_spend(subtotal_cents: int, adjustments, refunded_cents: int | None) -> int:
    discounts = sum(
        a.get("amount_cents", 0) for a in adjustments or () if a["kind"] not in NOT_DISCOUNTS
    )
    return max(subtotal_cents + discounts - (refunded_cents or 0), 0)


def completed_purchases(buyer_id: int, until: datetime) -> list[tuple[datetime, int]]:
    """(completed_at, spend) of the buyer's orders completed by ``until``, newest first."""
    rows = db.session.execute(
        select(Order.completed_at, Order.subtotal_cents, Order.adjustments, Order.refunded_cents)
        .where(
            Order.buyer_id == buyer_id,
            Order.status == "completed",
            Order.completed_at.is_not(None),
            Order.completed_at <= until,
        )
        .order_by(Order.completed_at.desc())
    ).all()
    return [
        (
            row.completed_at,
            merchandise_spend(row.subtotal_cents, row.adjustments, row.refunded_cents),
        )
        for row in rows
    ]


def completed_order_counts() -> dict[int, int]:
    """Buyer id -> number of completed orders, for every buyer with one."""
    return dict(
        db.session.execute(
            select(Order.buyer_id, func.count())
            .where(Order.status == "completed")
            .group_by(Order.buyer_id)
        )
        .tuples()
        .all()
    )


def completed_spend(buyer_ids, since: datetime) -> int:
    """Total spend of orders completed since ``since`` by ``buyer_ids`` (ids or a subquery)."""
    return sum(
        merchandise_spend(row.subtotal_cents, row.adjustments, row.refunded_cents)
        for row in db.session.execute(
            select(Order.subtotal_cents, Order.adjustments, Order.refunded_cents).where(
                Order.status == "completed",
                Order.completed_at >= since,
                Order.buyer_id.in_(buyer_ids),
            )
        ).all()
    )


def buyer_ids(limit: int) -> set[int]:
    """Ids of members who ever placed an order (at most ``limit``)."""
    return set(db.session.scalars(select(Order.buyer_id).distinct().limit(limit)))


def completed_order_count(buyer_id: int) -> int:
    """How many of the buyer's orders are completed."""
    return db.session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.buyer_id == buyer_id, Order.status == "completed")
    )


def has_ordered(buyer_id: int, *, except_order_id: int | None = None) -> bool:
    """Whether the buyer has an order that went through (paid, shipped, completed) or
    one still payable (pending or held, not past its deadline); ``except_order_id`` (the
    order being placed) does not count. A first-order coupon asks this."""
    query = select(Order.id).where(
        Order.buyer_id == buyer_id,
        Order.status.in_(PAID_STATUSES)
        | (
            Order.status.in_(UNPAID_STATUSES)
            & (Order.expires_at.is_(None) | (Order.expires_at > now()))
        ),
    )
    if except_order_id is not None:
        query = query.where(Order.id != except_order_id)
    return db.session.scalar(query.limit(1)) is not None


def order_figures(order_ids) -> tuple[int, int]:
    """(sum of ``total_cents``, number completed) of the orders among ``order_ids`` (ids
    or a ``select()`` of them, e.g. a coupon's live redemptions), in one query."""
    total, completed = db.session.execute(
        select(
            func.coalesce(func.sum(Order.total_cents), 0),
            func.count().filter(Order.status == "completed"),
        ).where(Order.id.in_(order_ids))
    ).one()
    return int(total), int(completed)
