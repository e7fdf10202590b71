"""Shop endpoints: products, orders, payment, fulfilment and refunds (shared/API.md, Shop)."""

from flask import request

from ..errors import ValidationFailed
from ..permissions import acting_user as _user
from ..shop_embed import service
from ..shop_embed.images import IMAGES
from ..shop_embed.models import ORDER_STATUSES
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
from .core import endpoints, idempotent_response, page_args

endpoint = endpoints(bp, tag="shop")


PAGE = ("cursor", "limit")


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


@endpoint("/products/<int:product_id>", "DELETE", auth="merchant", status=204)
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


@endpoint(
    "/orders", "POST", body=OrderBody, status=201, errors=(409, 429), response=responses.Order
)
def create_order(data: OrderBody):
    """Place an order (reserves stock); honours Idempotency-Key"""
    address = data.shipping_address.model_dump() if data.shipping_address else None
    order, replayed = service.place_order(
        _user(),
        [(line.product_id, line.quantity) for line in data.items],
        shipping_address=address,
        idempotency_key=request.headers.get("Idempotency-Key"),
        choices=data.choices(),
    )
    return idempotent_response(dump_order(order), replayed)


@endpoint(
    "/checkout", "POST", body=CheckoutBody, status=201, errors=(409, 429), response=responses.Order
)
def checkout(data: CheckoutBody):
    """Place and pay an order in one call (all or nothing); honours Idempotency-Key"""
    address = data.shipping_address.model_dump() if data.shipping_address else None
    order, replayed = service.checkout_replayed(
        _user(),
        [(line.product_id, line.quantity) for line in data.items],
        address=address,
        provider=data.provider,
        idempotency_key=request.headers.get("Idempotency-Key"),
        choices=data.choices(),
    )
    return idempotent_response(dump_order(order), replayed)


@endpoint("/checkout/quote", "POST", body=QuoteBody, errors=(409,), response=PriceQuoteOut)
def checkout_quote(data: QuoteBody):
    """What an order of these items would cost the caller now (every price rule applied)"""
    quote = service.price_quote(
        _user(), [(line.product_id, line.quantity) for line in data.items], choices=data.choices()
    )
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


def _act_on_order(order_id: int, action):
    """Find the order as the caller may see it (404 otherwise), act, answer with its history."""
    order = service.get_order(order_id, _user())
    return dump_order(action(order), events=True)


@endpoint(
    "/orders/<int:order_id>/pay", "POST", body=PayBody, errors=(409,), response=responses.Order
)
def pay_order(order_id: int, data: PayBody):
    """Pay an order (buyer): sandbox pays at once, offline awaits the merchant"""
    return _act_on_order(order_id, lambda order: service.pay(_user(), order, data.provider))


@endpoint(
    "/orders/<int:order_id>/shipping-address",
    "PUT",
    body=AddressBody,
    errors=(409,),
    response=responses.Order,
)
def set_shipping_address(order_id: int, data: AddressBody):
    """Give or correct where an order goes, until it ships (buyer)"""
    address = data.shipping_address.model_dump()
    return _act_on_order(
        order_id, lambda order: service.set_shipping_address(_user(), order, address)
    )


@endpoint("/orders/<int:order_id>/mark-paid", "POST", errors=(409,), response=responses.Order)
def mark_paid(order_id: int):
    """Confirm an offline payment (its merchant, admin)"""
    return _act_on_order(order_id, lambda order: service.mark_paid(_user(), order))


@endpoint(
    "/orders/<int:order_id>/ship", "POST", body=ShipBody, errors=(409,), response=responses.Order
)
def ship_order(order_id: int, data: ShipBody):
    """Mark a paid order shipped (its merchant, admin)"""
    return _act_on_order(
        order_id, lambda order: service.ship(_user(), order, tracking=data.tracking)
    )


@endpoint("/orders/<int:order_id>/complete", "POST", errors=(409,), response=responses.Order)
def complete_order(order_id: int):
    """Confirm delivery (buyer, its merchant, admin)"""
    return _act_on_order(order_id, lambda order: service.complete(_user(), order))


@endpoint(
    "/orders/<int:order_id>/cancel",
    "POST",
    body=ReasonBody,
    errors=(409,),
    response=responses.Order,
)
def cancel_order(order_id: int, data: ReasonBody):
    """Cancel an unpaid order; its stock is released"""
    return _act_on_order(order_id, lambda order: service.cancel(_user(), order, reason=data.reason))


@endpoint(
    "/orders/<int:order_id>/refund",
    "POST",
    body=RefundBody,
    errors=(409,),
    response=responses.Order,
)
def refund_order(order_id: int, data: RefundBody):
    """Refund a paid order, or part of it (its merchant, admin); a full refund restores stock"""
    return _act_on_order(
        order_id,
        lambda order: service.refund(
            _user(), order, reason=data.reason, amount_cents=data.amount_cents
        ),
    )
