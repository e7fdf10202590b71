"""What members bought, for other features (tiers, the VIP report): read-only figures.

A purchase's spend is its merchandise after discounts and refunds, never shipping or
tenders (credit, points); the rule lives here, beside the orders it reads.
"""

from datetime import datetime

from sqlalchemy import func, select

from ...extensions import db
from ..models import NOT_DISCOUNTS, Order


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
        ).all()
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
