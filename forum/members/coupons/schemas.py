"""API bodies and JSON of coupons (types only; ranges and rules are the service's)."""

from pydantic import BaseModel, ConfigDict, Field

from ...schemas import Body, DbInt, iso
from . import service


class CouponBody(Body):
    """POST /api/v1/coupons: ``value`` is basis points (percent) or minor units (fixed)."""

    code: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    value: DbInt
    min_subtotal_cents: DbInt = 0
    starts_at: str | None = Field(default=None, max_length=64)
    ends_at: str | None = Field(default=None, max_length=64)
    max_uses: DbInt | None = None
    per_user_limit: DbInt = 1
    audience: str = Field(default="all", max_length=16)
    # Only members with exactly this many completed orders (1: the "second purchase").
    completed_orders: DbInt | None = None
    first_order_only: bool = False
    currency: str | None = Field(default=None, max_length=8)
    scope: str | None = Field(default=None, max_length=8)  # "site" (admin) or "shop"


class CouponPatch(Body):
    active: bool


class CouponMerchantOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int
    slug: str
    name: str


class CouponOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    code: str
    scope: str
    merchant: CouponMerchantOut | None
    kind: str
    value: int
    currency: str
    min_subtotal_cents: int
    starts_at: str | None
    ends_at: str | None
    max_uses: int | None
    per_user_limit: int
    audience: str
    completed_orders: int | None
    first_order_only: bool
    active: bool
    uses: int
    uses_left: int | None
    released: int
    discount_cents: int
    revenue_cents: int
    created_at: str | None


class CouponPageOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[CouponOut]
    next_cursor: str | None


def dump_coupon(coupon) -> dict:
    figures = service.usage(coupon)
    merchant = coupon.merchant
    return {
        "id": coupon.id,
        "code": coupon.code,
        "scope": coupon.scope,
        "merchant": {"id": merchant.id, "slug": merchant.slug, "name": merchant.name}
        if merchant
        else None,
        "kind": coupon.kind,
        "value": coupon.value,
        "currency": coupon.currency,
        "min_subtotal_cents": coupon.min_subtotal_cents,
        "starts_at": iso(coupon.starts_at),
        "ends_at": iso(coupon.ends_at),
        "max_uses": coupon.max_uses,
        "per_user_limit": coupon.per_user_limit,
        "audience": coupon.audience,
        "completed_orders": coupon.completed_orders,
        "first_order_only": coupon.first_order_only,
        "active": coupon.active,
        "uses": figures["uses"],
        "uses_left": figures["uses_left"],
        "released": figures["released"],
        "discount_cents": figures["discount_cents"],
        "revenue_cents": figures["revenue_cents"],
        "created_at": iso(coupon.created_at),
    }
