"""Coupon tables: the coupon with its use counter, each member's uses, each order's redemption.

Invariants (kept by the guarded statements in ``service``, checked again by the
database)::

    coupons.uses = active redemptions of the coupon <= max_uses
    coupon_member_uses.uses = the member's active redemptions <= per_user_limit
"""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...database import PrimaryKey, StampedNow, cascade_key
from ...extensions import db
from ...shop_embed.models import Merchant

KINDS = ("percent", "fixed")
AUDIENCES = ("all", "registered", "shopper", "vip")
REDEMPTION_STATES = ("active", "released")


class Coupon(db.Model):
    """A code that takes money off the merchandise of an order.

    ``merchant_id`` None: a site-wide coupon (an admin's, for goods of any shop);
    otherwise a shop coupon, for that merchant's goods only. ``value`` is basis
    points for ``percent`` (1000 = 10%) and minor units of ``currency`` for ``fixed``.
    ``completed_orders``: only members with exactly that many completed orders (the
    "second purchase" coupon is 1). ``segment_id``: a campaign segment (campaigns
    answers ``signals.in_segment``); no foreign key (members does not reach into
    campaigns' table): a coupon whose segment was deleted admits nobody.
    """

    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_max"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("per_user_limit >= 1", name="per_user_limit_positive"),
        CheckConstraint("min_subtotal_cents >= 0", name="min_subtotal_not_negative"),
        Index("ix_coupons_merchant", "merchant_id", "id"),
    )

    id: Mapped[PrimaryKey]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("shop_merchants.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    min_subtotal_cents: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    max_uses: Mapped[int | None] = mapped_column(Integer)  # None: no total limit
    per_user_limit: Mapped[int] = mapped_column(default=1)
    uses: Mapped[int] = mapped_column(default=0)
    audience: Mapped[str] = mapped_column(String(16), default="all")
    completed_orders: Mapped[int | None]
    segment_id: Mapped[int | None]
    first_order_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[StampedNow]

    merchant: Mapped[Merchant | None] = relationship()

    @property
    def scope(self) -> str:
        return "site" if self.merchant_id is None else "shop"

    @property
    def uses_left(self) -> int | None:
        return None if self.max_uses is None else max(self.max_uses - self.uses, 0)


class CouponMemberUse(db.Model):
    """How many live uses of a coupon one member holds (the per-member guard)."""

    __tablename__ = "coupon_member_uses"
    __table_args__ = (CheckConstraint("uses >= 0", name="uses_not_negative"),)

    coupon_id: Mapped[int] = cascade_key("coupons.id")
    user_id: Mapped[int] = cascade_key("users.id")
    uses: Mapped[int] = mapped_column(default=0)


class CouponRedemption(db.Model):
    """One order's use of a coupon: ``active`` while it counts, ``released`` once given back
    (the order was cancelled, expired or fully refunded). One per order."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        CheckConstraint("discount_cents >= 0", name="discount_not_negative"),
        Index("ix_coupon_redemptions_coupon_state", "coupon_id", "state"),
    )

    id: Mapped[PrimaryKey]
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("shop_orders.id", ondelete="CASCADE"), unique=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    discount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(16), default="active")
    release_reason: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[StampedNow]
    released_at: Mapped[datetime | None]
