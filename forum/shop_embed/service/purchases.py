"""What members bought, for other features: read-only facts about orders (tiers, the VIP
report, coupons' rules and figures) and order items (reviews: who may review or report on
what), so nobody outside the shop queries its Order.

A purchase's spend is its merchandise after discounts and refunds, never shipping or
tenders (credit, points); the rule lives here, beside the orders it reads.
"""

from datetime import datetime

from sqlalchemy import Select, func, select

from ...clock import now
from ...extensions import db
from ..models import NOT_DISCOUNTS, Order, OrderItem
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
        completed_purchases_query(buyer_id, until).order_by(Order.completed_at.desc())
    ).all()
    return [purchase_of(row) for row in rows]


def completed_purchases_query(buyer_id, until) -> Select:
    """``SELECT completed_at, subtotal_cents, adjustments, refunded_cents`` of the buyer's
    orders completed by ``until`` (values or ``bindparam``s), unordered: for a caller
    that reads them with rows of its own in one statement (members' tier standing, as
    a subquery it outer-joins). ``purchase_of(row)`` turns a row into (completed_at, spend)."""
    return select(
        Order.completed_at, Order.subtotal_cents, Order.adjustments, Order.refunded_cents
    ).where(
        Order.buyer_id == buyer_id,
        Order.status == "completed",
        Order.completed_at.is_not(None),
        Order.completed_at <= until,
    )


def purchase_of(row) -> tuple[datetime, int]:
    """(completed_at, spend) of a row of ``completed_purchases_query``."""
    return (
        row.completed_at,
        merchandise_spend(row.subtotal_cents, row.adjustments, row.refunded_cents),
    )


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


# --- order items, for reviews ----------------------------------------------------------


def order_item_ids(order_id: int) -> list[int]:
    """Ids of ``order_id``'s items."""
    return list(db.session.scalars(select(OrderItem.id).where(OrderItem.order_id == order_id)))


def bought_items(
    buyer_id: int, *, product_id: int | None = None, order_id: int | None = None
) -> list[tuple[OrderItem, Order]]:
    """(item, order) of every order of ``buyer_id`` (any status), optionally of one
    product and/or one order: completed orders first, then by order and item id."""
    query = (
        select(OrderItem, Order)
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.buyer_id == buyer_id)
        .order_by(Order.completed_at.is_(None), Order.id, OrderItem.id)
    )
    if product_id is not None:
        query = query.where(OrderItem.product_id == product_id)
    if order_id is not None:
        query = query.where(Order.id == order_id)
    return [(item, order) for item, order in db.session.execute(query).all()]


def completed_items(
    buyer_id: int, *, product_id: int | None = None, limit: int = 100
) -> list[tuple[OrderItem, Order]]:
    """(item, order) of ``buyer_id``'s completed orders, newest completion first (at most
    ``limit``), optionally of one product."""
    query = (
        select(OrderItem, Order)
        .join(Order, Order.id == OrderItem.order_id)
        .where(Order.buyer_id == buyer_id, Order.status == "completed")
        .order_by(Order.completed_at.desc(), OrderItem.id)
        .limit(limit)
    )
    if product_id is not None:
        query = query.where(OrderItem.product_id == product_id)
    return [(item, order) for item, order in db.session.execute(query).all()]


def bought_item(buyer_id: int, item_id: int) -> tuple[OrderItem, Order] | None:
    """(item, order) when order item ``item_id`` is in one of ``buyer_id``'s orders."""
    row = db.session.execute(
        select(OrderItem, Order)
        .join(Order, Order.id == OrderItem.order_id)
        .where(OrderItem.id == item_id, Order.buyer_id == buyer_id)
    ).first()
    return None if row is None else (row[0], row[1])


def shipping_addresses(buyer_id: int, limit: int = 200) -> list[dict | None]:
    """The shipping addresses of ``buyer_id``'s latest ``limit`` orders, newest first."""
    return list(
        db.session.scalars(
            select(Order.shipping_address)
            .where(Order.buyer_id == buyer_id)
            .order_by(Order.id.desc())
            .limit(limit)
        )
    )


def completed_order_ids() -> Select:
    """``SELECT id`` of completed orders: a SQL expression for another feature's own
    query (``column.in_(completed_order_ids())``, e.g. reviews' reminder sweep), so the
    filter stays one statement without that feature reading the orders table."""
    return select(Order.id).where(Order.status == "completed")


def paid_order_ids() -> Select:
    """``SELECT id`` of orders paid or further (``PAID_STATUSES``): a SQL expression for
    another feature's own query (an auction's units sold for good)."""
    return select(Order.id).where(Order.status.in_(PAID_STATUSES))
