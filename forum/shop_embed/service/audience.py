"""Order facts as SQL expressions, for other features that compose them into ONE
statement over members (campaigns' segments, its report's lift): each builder takes a
column holding a member id (``User.id`` of the enclosing query, a delivery's
``user_id``) and returns a correlated expression that is never NULL, so nobody
outside the shop names its tables and a segment stays one query.

"Bought" is an order that was paid for (paid, shipped, completed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Select, func, select

from ...database import correlated_count, correlated_exists
from ...extensions import db
from ..models import Merchant, Order, Product

BOUGHT_STATUSES = ("paid", "shipped", "completed")


def _bought(user_id):
    return (Order.buyer_id == user_id, Order.status.in_(BOUGHT_STATUSES))


def completed_orders_sql(user_id) -> ColumnElement[int]:
    """How many of the member's orders are completed (0 without any)."""
    return correlated_count(Order, Order.buyer_id == user_id, Order.status == "completed")


def bought_at_sql(user_id, which: Literal["first", "last"]) -> ColumnElement[datetime]:
    """When the member first (or last) bought; NULL when never."""
    pick = func.min if which == "first" else func.max
    return (
        select(pick(Order.created_at))
        .where(*_bought(user_id))
        .correlate_except(Order)
        .scalar_subquery()
    )


def spend_sql(user_id, since: datetime | None = None) -> ColumnElement[int]:
    """The member's order totals bought (since ``since``), 0 without any."""
    statement = select(func.sum(Order.total_cents)).where(*_bought(user_id))
    if since is not None:
        statement = statement.where(Order.created_at >= since)
    return func.coalesce(statement.correlate_except(Order).scalar_subquery(), 0)


def ordered_since_sql(user_id, bound: datetime) -> ColumnElement[bool]:
    """The member placed any order after ``bound`` (activity, whatever became of it)."""
    return correlated_exists(Order, Order.buyer_id == user_id, Order.created_at > bound)


def bought_from_since_sql(user_id, merchant_user_id, since) -> ColumnElement[bool]:
    """The member bought from the shop owned by ``merchant_user_id`` at or after
    ``since`` (columns of the enclosing query, e.g. an offer click's)."""
    shops = (
        select(Merchant.id).where(Merchant.user_id == merchant_user_id).correlate_except(Merchant)
    )
    return correlated_exists(
        Order, *_bought(user_id), Order.created_at >= since, Order.merchant_id.in_(shops)
    )


def buyers_between(start: datetime, end: datetime) -> Select:
    """``SELECT buyer_id, revenue`` of members who bought in [start, end) (revenue: the
    totals of those orders), to join as a subquery."""
    return (
        select(Order.buyer_id.label("buyer_id"), func.sum(Order.total_cents).label("revenue"))
        .where(Order.status.in_(BOUGHT_STATUSES), Order.created_at >= start, Order.created_at < end)
        .group_by(Order.buyer_id)
    )


def purchases_between(start: datetime, end: datetime) -> Select:
    """``SELECT buyer_id, created_at`` of each order bought (paid, shipped, completed)
    placed in [start, end), to aggregate as a subquery (activity, activation)."""
    return select(Order.buyer_id.label("buyer_id"), Order.created_at.label("created_at")).where(
        Order.status.in_(BOUGHT_STATUSES), Order.created_at >= start, Order.created_at < end
    )


def merchant_orders_between(merchant_user_id: int, start: datetime, end: datetime) -> Select:
    """``SELECT buyer_id, created_at, total_cents`` of each order bought from the shop
    owned by ``merchant_user_id`` placed in [start, end) (insight's promotion outcomes)."""
    shops = select(Merchant.id).where(Merchant.user_id == merchant_user_id)
    return select(
        Order.buyer_id.label("buyer_id"),
        Order.created_at.label("created_at"),
        Order.total_cents.label("total_cents"),
    ).where(
        Order.status.in_(BOUGHT_STATUSES),
        Order.merchant_id.in_(shops),
        Order.created_at >= start,
        Order.created_at < end,
    )


def product_facts(product_id: int) -> dict | None:
    """The product card's owner (merchant user id), name and creation time; None if unknown."""
    row = db.session.execute(
        select(Merchant.user_id, Product.name, Product.created_at)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(Product.id == product_id)
    ).first()
    if row is None:
        return None
    return {"merchant_user_id": row[0], "label": row[1], "starts_at": row[2]}


def merchant_product_ids(merchant_user_id: int) -> Select:
    """``SELECT id`` of the products of the shop owned by ``merchant_user_id``."""
    return (
        select(Product.id)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(Merchant.user_id == merchant_user_id)
    )


def merchant_ids_of(merchant_user_id: int) -> Select:
    """``SELECT id`` of the shop owned by ``merchant_user_id`` (its shop row)."""
    return select(Merchant.id).where(Merchant.user_id == merchant_user_id)
