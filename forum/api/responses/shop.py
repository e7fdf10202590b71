"""Shop: merchants, products, orders."""

from typing import Any, Literal

from pydantic import Field

from .shared import Cursor, Out, Timestamp, UserRef

# --- shop ---------------------------------------------------------------------------


class Merchant(Out):
    id: int
    slug: str
    name: str
    logo_initials: str
    currency: str
    shipping_fee_cents: int
    free_shipping_threshold_cents: int | None


class Product(Out):
    id: int
    merchant: Merchant
    name: str
    description: str
    description_html: str
    price_cents: int
    currency: str
    stock: int
    stock_label: str
    active: bool
    archived: bool
    audience: str
    free_shipping_excluded: bool
    image_url: str | None
    url: str
    # Over the reviews that count (shared/API.md, Reviews); rating_avg is null without any.
    rating_avg: float | None
    rating_count: int
    rating_histogram: dict[Literal["1", "2", "3", "4", "5"], int]
    created_at: Timestamp | None
    updated_at: Timestamp | None


class ProductList(Out):
    items: list[Product]
    next_cursor: None


class OrderItem(Out):
    product_id: int | None
    name: str
    unit_price_cents: int
    quantity: int
    line_total_cents: int


class Payment(Out):
    provider: str
    status: str
    reference: str | None


class OrderSource(Out):
    kind: str
    id: int | None
    author_id: int | None


class OrderEvent(Out):
    id: int
    type: str
    from_status: str | None
    to_status: str | None
    actor: UserRef | None
    params: dict[str, Any]
    created_at: Timestamp | None


class OrderAdjustment(Out):
    kind: str
    label: str
    amount_cents: int


class Order(Out):
    id: int
    kind: str
    status: str
    buyer: UserRef
    merchant: Merchant
    items: list[OrderItem]
    currency: str
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    credit_used_cents: int
    points_used: int
    total_cents: int
    rebate_cents: int
    refunded_cents: int
    adjustments: list[OrderAdjustment]
    shipping_address: dict[str, str] | None
    payment: Payment | None
    source: OrderSource | None
    expires_at: Timestamp | None
    created_at: Timestamp | None
    paid_at: Timestamp | None
    shipped_at: Timestamp | None
    completed_at: Timestamp | None
    cancelled_at: Timestamp | None
    refunded_at: Timestamp | None
    events: list[OrderEvent] = Field(default_factory=list)


class OrderPage(Out):
    items: list[Order]
    next_cursor: Cursor
