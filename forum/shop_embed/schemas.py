"""API request bodies (types only; ranges and rules are the service's) and JSON dumps.

``ProductBody``'s fields are ``create_product``'s keyword arguments: the API hands
``model_dump()`` straight on, so keep the two in step.
"""

from typing import Any

from pydantic import BaseModel, Field

from ..accounts.schemas import dump_user_ref
from ..money import MinorUnits
from ..schemas import Body, DbInt, Id, attrs, iso
from . import service


class ProductBody(Body):
    name: str = Field(max_length=500)
    description: str = ""
    price_cents: MinorUnits
    currency: str = Field(max_length=8)
    stock: DbInt
    active: bool = True
    audience: str = Field(default="all", max_length=16)
    free_shipping_excluded: bool = False


class ProductPatch(Body):
    name: str | None = Field(default=None, max_length=500)
    description: str | None = None
    price_cents: MinorUnits | None = None
    currency: str | None = Field(default=None, max_length=8)
    stock: DbInt | None = None
    active: bool | None = None
    audience: str | None = Field(default=None, max_length=16)
    free_shipping_excluded: bool | None = None


class OrderLine(Body):
    product_id: Id
    quantity: DbInt


class Address(Body):
    name: str = Field(max_length=500)
    line1: str = Field(max_length=500)
    line2: str = Field(default="", max_length=500)
    city: str = Field(max_length=500)
    postal_code: str = Field(max_length=100)
    country: str = Field(max_length=200)


# The lines and the buyer's choices (credit, points, coupon) that price an order; an
# order adds where it is shipped. (No docstrings: they would become the API document's
# descriptions.)
class QuoteBody(Body):
    items: list[OrderLine] = Field(max_length=100)
    use_credit_cents: DbInt = 0
    use_points: DbInt = 0
    coupon_code: str | None = Field(default=None, max_length=64)

    def choices(self) -> dict[str, Any]:
        """What the price steps get: store credit and points to spend, a coupon code."""
        chosen: dict[str, Any] = {
            "use_credit_cents": self.use_credit_cents,
            "use_points": self.use_points,
        }
        if self.coupon_code:
            chosen["coupon_code"] = self.coupon_code
        return chosen


class OrderBody(QuoteBody):
    shipping_address: Address | None = None


class CheckoutBody(OrderBody):
    """POST /api/v1/checkout: the order body plus how it is paid, in one call."""

    provider: str = Field(max_length=32)


class AddressBody(Body):
    shipping_address: Address


class PayBody(Body):
    provider: str = Field(max_length=32)


class ShipBody(Body):
    tracking: str = Field(default="", max_length=200)


class ReasonBody(Body):
    reason: str = Field(default="", max_length=500)


class RefundBody(ReasonBody):
    amount_cents: DbInt | None = None  # a partial refund; default the whole remaining amount


def dump_merchant(merchant) -> dict:
    return {
        **attrs(
            merchant,
            "id",
            "slug",
            "name",
            "logo_initials",
            "currency",
            "shipping_fee_cents",
            "free_shipping_threshold_cents",
        ),
    }


def dump_product(product, stock: int | None = None) -> dict:
    if stock is None:
        stock = service.available_stock([product.id]).get(product.id, 0)
    return {
        "id": product.id,
        "merchant": dump_merchant(product.merchant),
        **attrs(product, "name", "description", "description_html", "price_cents", "currency"),
        "stock": stock if product.is_buyable else 0,
        "stock_label": service.stock_label(stock) if product.is_buyable else "Unavailable",
        "active": product.active,
        "archived": product.is_archived,
        "audience": product.audience,
        "free_shipping_excluded": product.free_shipping_excluded,
        "image_url": service.image_url(product),
        "url": service.product_url(product),
        "rating_avg": product.rating_avg,
        "rating_count": product.rating_count or 0,
        "rating_histogram": product.rating_histogram,
        "created_at": iso(product.created_at),
        "updated_at": iso(product.updated_at),
    }


def dump_event(event) -> dict:
    return {
        **attrs(event, "id", "type", "from_status", "to_status"),
        "actor": dump_user_ref(event.actor) if event.actor else None,
        "params": event.params or {},
        "created_at": iso(event.created_at),
    }


def dump_order(order, *, events: bool = False) -> dict:
    payment = service.order_payment(order)
    data = {
        **attrs(order, "id", "kind"),
        "status": service.shown_status(order),
        "buyer": dump_user_ref(order.buyer),
        "merchant": dump_merchant(order.merchant),
        "items": [
            {
                **attrs(
                    item, "product_id", "name", "unit_price_cents", "quantity", "line_total_cents"
                ),
            }
            for item in order.items
        ],
        **attrs(
            order,
            "currency",
            "subtotal_cents",
            "discount_cents",
            "shipping_cents",
            "credit_used_cents",
            "points_used",
            "total_cents",
            "rebate_cents",
        ),
        "refunded_cents": order.refunded_cents or 0,
        "adjustments": [
            {"kind": a["kind"], "label": a["label"], "amount_cents": a["amount_cents"]}
            for a in order.adjustments or ()
        ],
        "shipping_address": order.shipping_address or None,
        "payment": {
            **attrs(payment, "provider", "status", "reference"),
        }
        if payment
        else None,
        "source": {
            "kind": order.source_kind,
            "id": order.source_id,
            "author_id": order.source_author_id,
        }
        if order.source_kind
        else None,
        "expires_at": iso(order.expires_at),
        "created_at": iso(order.created_at),
        "paid_at": iso(order.paid_at),
        "shipped_at": iso(order.shipped_at),
        "completed_at": iso(order.completed_at),
        "cancelled_at": iso(order.cancelled_at),
        "refunded_at": iso(order.refunded_at),
    }
    if events:
        data["events"] = [dump_event(e) for e in service.order_events(order)]
    return data


class PriceQuoteItemOut(BaseModel):
    product_id: int
    name: str
    quantity: int
    unit_price_cents: int
    line_total_cents: int


class AdjustmentOut(BaseModel):
    kind: str
    label: str
    amount_cents: int


class PriceQuoteOut(BaseModel):
    """POST /api/v1/checkout/quote: the same PriceQuote the checkout page shows."""

    currency: str
    items: list[PriceQuoteItemOut]
    adjustments: list[AdjustmentOut]
    subtotal_cents: int
    discount_cents: int = 0
    shipping_cents: int
    total_cents: int
    rebate_cents: int = 0
