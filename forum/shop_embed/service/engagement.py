"""What members bought and what may be offered, as SELECTs for recommendations (insight
trains on them), so nobody outside the shop names its tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from ..models import Merchant, Order, OrderItem, Product
from .audience import BOUGHT_STATUSES


def purchased_products_sql(before: datetime | None = None) -> Select:
    """``SELECT user_id, product_id, order_kind, at``: each product a member bought (an
    order paid, shipped or completed), the latest time, and that order's kind
    ("standard", "groupbuy", "snap"...)."""
    query = (
        select(
            Order.buyer_id.label("user_id"),
            OrderItem.product_id.label("product_id"),
            func.max(Order.kind).label("order_kind"),
            func.max(Order.created_at).label("at"),
        )
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.status.in_(BOUGHT_STATUSES))
    )
    if before is not None:
        query = query.where(Order.created_at < before)
    return query.group_by(Order.buyer_id, OrderItem.product_id)


def offerable_products_sql() -> Select:
    """``SELECT product_id, name, audience, merchant`` of products on sale: active and
    not archived (whether any is left: ``available_stock``)."""
    return (
        select(
            Product.id.label("product_id"),
            Product.name.label("name"),
            Product.audience.label("audience"),
            Merchant.name.label("merchant"),
        )
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(Product.active.is_(True), Product.archived_at.is_(None))
    )


def product_names_sql() -> Select:
    """``SELECT product_id, name`` of every product (for "because you bought ...")."""
    return select(Product.id.label("product_id"), Product.name.label("name"))
