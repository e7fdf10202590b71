"""Shop endpoints: products, orders, payment, fulfilment and refunds (shared/API.md, Shop)."""

import functools
from collections.abc import Callable
from typing import Any

from flask import request
from pydantic import BaseModel

from ..errors import ValidationFailed
from ..permissions import acting_user as _user
from ..shop_embed import service
from ..shop_embed.images import IMAGES
from ..shop_embed.models import ORDER_STATUSES, Order
from ..shop_embed.schemas import (
    AddressBody,
    CheckoutBody,
    OrderBody,
    PayBody,
    PriceQuoteOut,
    ProductBody,
    ProductPatch,
    QuoteBody,
    ReasonBody,
    RefundBody,
    ShipBody,
    dump_order,
    dump_product,
)
from . import bp, responses
from .core import (
    PAGE,
    PLACES_ORDER,
    endpoints,
    idempotency_key,
    idempotent_response,
    page_args,
    shipping_address,
)

endpoint = endpoints(bp, tag="shop")


# --- products ----------------------------------------------------------------------


@endpoint(
    "/products", "POST", auth="merchant", body=ProductBody, status=201, response=responses.Product
)
def create_product(data: ProductBody):
    """Create a product in the caller's shop"""
    return dump_product(service.create_product(_user(), **data.model_dump()))


@endpoint("/products/<int:product_id>", "GET", auth="anyone", response=responses.Product)
def get_product(product_id: int):
    """A product with the stock that can still be bought"""
    return dump_product(service.get_product(product_id, viewer=_user()))


@endpoint(
    "/products/<int:product_id>",
    "PATCH",
    auth="merchant",
    body=ProductPatch,
    errors=(409,),
    response=responses.Product,
)
def update_product(product_id: int, data: ProductPatch):
    """Change a product (its merchant)"""
    product = service.get_product(product_id, viewer=_user())
    changes = data.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise ValidationFailed(
            fields={k: ["Must not be null."] for k, v in changes.items() if v is None}
        )
    return dump_product(service.update_product(_user(), product, **changes))


@endpoint("/products/<int:product_id>", "DELETE", auth="merchant")
def archive_product(product_id: int):
    """Archive a product (its cards show unavailable)"""
    product = service.get_product(product_id, viewer=_user())
    service.archive_product(_user(), product)


@endpoint(
    "/products/<int:product_id>/image",
    "POST",
    auth="merchant",
    errors=(413, 422, 429),  # 429 uploads_busy: every decode slot taken
    response=responses.Product,
)
def upload_image(product_id: int):
    """Upload a product image (multipart field `image`: JPEG, PNG, WebP or GIF)"""
    product = service.get_product(product_id, viewer=_user())
    service.check_owner(_user(), product)
    upload = request.files.get("image")
    if upload is None:
        raise ValidationFailed(
            "Attach the image as the multipart field `image`.", fields={"image": ["Required."]}
        )
    return dump_product(
        service.set_product_image(_user(), product, IMAGES.read_limited(upload.stream))
    )


@endpoint("/merchant/products", "GET", auth="merchant", response=responses.ProductList)
def my_products():
    """The caller's products, archived included"""
    merchant = service.require_merchant(_user())
    products = service.merchant_products(merchant, include_archived=True)
    stock = service.available_stock(p.id for p in products)
    return {"items": [dump_product(p, stock.get(p.id, 0)) for p in products], "next_cursor": None}


# --- orders ------------------------------------------------------------------------


def _items(data: QuoteBody | OrderBody) -> list[tuple[int, int]]:
    """An order body's lines as the (product id, quantity) pairs the services take."""
    return [(line.product_id, line.quantity) for line in data.items]


@endpoint("/orders", body=OrderBody, response=responses.Order, **PLACES_ORDER)
def create_order(data: OrderBody):
    """Place an order (reserves stock); honours Idempotency-Key"""
    order, replayed = service.place_order(
        _user(),
        _items(data),
        shipping_address=shipping_address(data),
        idempotency_key=idempotency_key(),
        choices=data.choices(),
    )
    return idempotent_response(dump_order(order), replayed)


@endpoint("/checkout", body=CheckoutBody, response=responses.Order, **PLACES_ORDER)
def checkout(data: CheckoutBody):
    """Place and pay an order in one call (all or nothing); honours Idempotency-Key"""
    order, replayed = service.checkout_replayed(
        _user(),
        _items(data),
        address=shipping_address(data),
        provider=data.provider,
        idempotency_key=idempotency_key(),
        choices=data.choices(),
    )
    return idempotent_response(dump_order(order), replayed)


@endpoint("/checkout/quote", "POST", body=QuoteBody, errors=(409,), response=PriceQuoteOut)
def checkout_quote(data: QuoteBody):
    """What an order of these items would cost the caller now (every price rule applied)"""
    quote = service.price_quote(_user(), _items(data), choices=data.choices())
    return quote.as_json()


@endpoint("/orders", "GET", query=PAGE, response=responses.OrderPage)
def my_orders():
    """The caller's orders, newest first"""
    page = service.orders_of_buyer(_user(), **page_args())
    return page.dump(dump_order)


@endpoint(
    "/merchant/orders",
    "GET",
    auth="merchant",
    query=(("status", {"type": "string", "enum": list(ORDER_STATUSES)}), *PAGE),
    response=responses.OrderPage,
)
def merchant_orders():
    """Orders of the caller's shop, newest first"""
    status = request.args.get("status") or None
    if status is not None and status not in ORDER_STATUSES:
        raise ValidationFailed(fields={"status": [f"Use one of {', '.join(ORDER_STATUSES)}."]})
    page = service.orders_of_merchant(
        _user(),
        status=status,
        **page_args(),
    )
    return page.dump(dump_order)


@endpoint("/orders/<int:order_id>", "GET", response=responses.Order)
def get_order(order_id: int):
    """An order with items, totals and history (buyer, merchant, admin)"""
    return dump_order(service.get_order(order_id, _user()), events=True)


def order_action(rule: str, method: str = "POST", *, body: type[BaseModel] | None = None):
    """Declare an action on an order the caller may see (404 otherwise): the view takes
    the order (and ``data``, with ``body``) and returns it changed; the answer is the order
    with its history, or 409 when the order's state does not allow the action."""

    def declare(act: Callable[..., Order]):
        @functools.wraps(act)
        def view(order_id: int, **data: Any):
            order = service.get_order(order_id, _user())
            return dump_order(act(order, **data), events=True)

        return endpoint(rule, method, body=body, errors=(409,), response=responses.Order)(view)

    return declare


@order_action("/orders/<int:order_id>/pay", body=PayBody)
def pay_order(order: Order, data: PayBody):
    """Pay an order (buyer): sandbox pays at once, offline awaits the merchant"""
    return service.pay(_user(), order, data.provider)


@order_action("/orders/<int:order_id>/shipping-address", "PUT", body=AddressBody)
def set_shipping_address(order: Order, data: AddressBody):
    """Give or correct where an order goes, until it ships (buyer)"""
    return service.set_shipping_address(_user(), order, data.shipping_address.model_dump())


@order_action("/orders/<int:order_id>/mark-paid")
def mark_paid(order: Order):
    """Confirm an offline payment (its merchant, admin)"""
    return service.mark_paid(_user(), order)


@order_action("/orders/<int:order_id>/ship", body=ShipBody)
def ship_order(order: Order, data: ShipBody):
    """Mark a paid order shipped (its merchant, admin)"""
    return service.ship(_user(), order, tracking=data.tracking)


@order_action("/orders/<int:order_id>/complete")
def complete_order(order: Order):
    """Confirm delivery (buyer, its merchant, admin)"""
    return service.complete(_user(), order)


@order_action("/orders/<int:order_id>/cancel", body=ReasonBody)
def cancel_order(order: Order, data: ReasonBody):
    """Cancel an unpaid order; its stock is released"""
    return service.cancel(_user(), order, reason=data.reason)


@order_action("/orders/<int:order_id>/refund", body=RefundBody)
def refund_order(order: Order, data: RefundBody):
    """Refund a paid order, or part of it (its merchant, admin); a full refund restores stock"""
    return service.refund(_user(), order, reason=data.reason, amount_cents=data.amount_cents)
