"""Shop tables: merchants, products, orders with their items, events, stock holds, payments.

Stock model: ``Product.stock`` is what is on the shelf and not held by any order.
Placing an order moves units from ``stock`` into ``StockReservation`` rows (state
``active``, with ``expires_at``) in one conditional UPDATE; paying turns them
``consumed`` (sold); cancelling, expiring or refunding gives them back. So at
every moment::

    initial stock = products.stock + sold units + units in active reservations

An active reservation past ``expires_at`` no longer counts as held: readers add it
back to what can be bought (``service.available_stock``) and a buyer who needs
those units releases it on the spot, so availability never waits for the job.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from ..accounts.models import User
from ..database import PrimaryKey, StampedNow, UTCDateTime
from ..extensions import db

# "held": placed with stock reserved but waiting on something else (a group-buy team)
# before it can be paid normally or shipped; see service.release_held / void_held.
ORDER_STATUSES = ("held", "pending", "paid", "shipped", "completed", "cancelled", "refunded")
RESERVATION_STATES = ("active", "consumed", "released")


class Merchant(db.Model):
    """A shop: one per user with the merchant role."""

    __tablename__ = "shop_merchants"
    __table_args__ = (
        CheckConstraint("shipping_fee_cents >= 0", name="shipping_fee_not_negative"),
        CheckConstraint(
            "free_shipping_threshold_cents IS NULL OR free_shipping_threshold_cents >= 0",
            name="threshold_not_negative",
        ),
    )

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(48), unique=True)
    logo_initials: Mapped[str] = mapped_column(String(3))
    tagline: Mapped[str] = mapped_column(String(160), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    shipping_fee_cents: Mapped[int] = mapped_column(default=0)
    # None: shipping is never free; otherwise free from this subtotal up.
    free_shipping_threshold_cents: Mapped[int | None]
    # The merchant's opt-in: buyers may pay by bank transfer or cash on delivery, which
    # holds the order's units for the offline payment window (config). Off by default.
    offline_payments: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[StampedNow]

    user: Mapped[User] = relationship()

    @property
    def logo_hue(self) -> int:
        return (self.id * 5) % 12  # a palette class (the CSP forbids inline style)


class Product(db.Model):
    __tablename__ = "shop_products"
    __table_args__ = (
        # Second line of defence: the conditional UPDATE already never oversells.
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        Index("ix_shop_products_merchant_listing", "merchant_id", "archived_at", "id"),
    )

    id: Mapped[PrimaryKey]
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"))
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(default=0)
    image_name: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    archived_at: Mapped[datetime | None]
    # Hidden by moderation (flags upheld, or past the flag score until a moderator
    # decides): members neither see nor buy it; the merchant and staff still see it.
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[StampedNow]
    updated_at: Mapped[StampedNow]
    # Who may buy it: "all", or a tier and above ("shopper", "vip"); members enforce it.
    audience: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    # Low-priced goods the merchant keeps out of the VIP free-freight perk.
    free_shipping_excluded: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # Review aggregates over the reviews that count (not hidden, not deleted), moved
    # in SQL by ``service.apply_rating`` in the review's own transaction.
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_sum: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_1: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_2: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_3: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_4: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_5: Mapped[int] = mapped_column(default=0, server_default="0")

    merchant: Mapped[Merchant] = relationship()

    @property
    def rating_avg(self) -> float | None:
        """The average rating to two decimals, None without reviews."""
        return round(self.rating_sum / self.rating_count, 2) if self.rating_count else None

    @property
    def rating_histogram(self) -> dict[str, int]:
        return {str(n): getattr(self, f"rating_{n}") or 0 for n in range(1, 6)}

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @hybrid_property
    def is_buyable(self) -> bool:
        """On sale: active, not archived, not hidden by moderation (also a SQL clause:
        ``where(Product.is_buyable)``)."""
        return self.active and self.archived_at is None and self.hidden_at is None

    @is_buyable.inplace.expression
    @classmethod
    def _is_buyable_expression(cls) -> ColumnElement[bool]:
        return and_(cls.active.is_(True), cls.archived_at.is_(None), cls.hidden_at.is_(None))


# Adjustment kinds that are not a discount on the merchandise.
NOT_DISCOUNTS = ("shipping", "credit", "points", "rebate")


class Order(db.Model):
    """An order from one buyer to one merchant.

    ``kind`` is "standard" for cart/checkout orders; group-buys and snap-ups add
    their own kinds and reuse the items, holds, payments and state machine.
    ``source_*`` say which post or chat message led to it (filled by attribution).
    """

    __tablename__ = "shop_orders"
    __table_args__ = (
        # A replayed Idempotency-Key finds the first order; NULL keys never collide.
        UniqueConstraint(
            "buyer_id", "idempotency_key", name="uq_shop_orders_buyer_idempotency_key"
        ),
        CheckConstraint("total_cents >= 0", name="total_not_negative"),
        Index("ix_shop_orders_buyer", "buyer_id", "id"),
        Index("ix_shop_orders_merchant", "merchant_id", "id"),
        Index("ix_shop_orders_expiry", "status", "expires_at"),
    )

    id: Mapped[PrimaryKey]
    kind: Mapped[str] = mapped_column(String(16), default="standard")
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_cents: Mapped[int]
    shipping_cents: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int]
    shipping_address: Mapped[dict] = mapped_column(JSON, default=dict)
    payment_provider: Mapped[str | None] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    source_kind: Mapped[str | None] = mapped_column(String(16))  # "post" | "message"
    source_id: Mapped[int | None]
    source_author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # unpaid orders only
    # The latest its holds may last: the end of its offer's own payment window (a snap-up,
    # a released group-buy). Choosing to pay offline never extends a hold past it.
    # None: a plain shop order, which the shop's offline window may extend.
    hold_limit_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]
    updated_at: Mapped[StampedNow]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]
    # The price rules after the unit prices, as the quote applied them:
    # [{"kind", "label", "amount_cents", "info"}] (shipping, coupon, perks, credit, points).
    adjustments: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Money given back so far by partial refunds (the whole total once refunded).
    refunded_cents: Mapped[int] = mapped_column(default=0, server_default="0")

    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id])
    merchant: Mapped[Merchant] = relationship()
    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", order_by="OrderItem.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["OrderEvent"]] = relationship(order_by="OrderEvent.id", viewonly=True)

    def adjustment_cents(self, *kinds: str) -> int:
        return sum(a.get("amount_cents", 0) for a in self.adjustments or () if a["kind"] in kinds)

    def adjustment_info(self, key: str) -> int:
        return sum(int((a.get("info") or {}).get(key, 0)) for a in self.adjustments or ())

    @property
    def discount_cents(self) -> int:
        """Discounts on the merchandise (coupons...): every rule but shipping and tenders."""
        return -sum(
            a.get("amount_cents", 0)
            for a in self.adjustments or ()
            if a["kind"] not in NOT_DISCOUNTS
        )

    @property
    def credit_used_cents(self) -> int:
        return -self.adjustment_cents("credit")

    @property
    def points_used(self) -> int:
        return self.adjustment_info("points")

    @property
    def rebate_cents(self) -> int:
        return self.adjustment_info("rebate_cents")

    @property
    def item_count(self) -> int:
        return sum(item.quantity for item in self.items)


class OrderItem(db.Model):
    """A line of an order; name and price are copied so later edits do not rewrite history."""

    __tablename__ = "shop_order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[PrimaryKey]
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_orders.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    unit_price_cents: Mapped[int]
    quantity: Mapped[int]
    line_total_cents: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()


class OrderEvent(db.Model):
    """Append-only history of an order: what happened, who did it, from which status."""

    __tablename__ = "shop_order_events"

    id: Mapped[PrimaryKey]
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_orders.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[StampedNow]

    actor: Mapped[User | None] = relationship()


class StockReservation(db.Model):
    """Units of one product held by one order until it is paid or the hold expires."""

    __tablename__ = "shop_stock_reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # "Expired holds of product P" and "active units of P" are range scans.
        Index("ix_shop_stock_reservations_product_state", "product_id", "state", "expires_at"),
    )

    id: Mapped[PrimaryKey]
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_orders.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"))
    quantity: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="active")
    expires_at: Mapped[datetime]
    created_at: Mapped[StampedNow]
    settled_at: Mapped[datetime | None]


class Payment(db.Model):
    """One attempt to collect (and possibly give back) an order's total through a provider."""

    __tablename__ = "shop_payments"

    id: Mapped[PrimaryKey]
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_orders.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # awaiting | succeeded | refunded
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(64), default="")
    refund_reference: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[StampedNow]
    updated_at: Mapped[StampedNow]
