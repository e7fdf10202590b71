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
    "/products",
    "POST",
    summary="Create a product in the caller's shop",
    auth="merchant",
    body=ProductBody,
    status=201,
    errors=(422,),
    response=responses.Product,
)
def create_product(data: ProductBody):
    return dump_product(service.create_product(_user(), **data.model_dump()))


@endpoint(
    "/products/<int:product_id>",
    "GET",
    summary="A product with the stock that can still be bought",
    auth="anyone",
    errors=(404,),
    response=responses.Product,
)
def get_product(product_id: int):
    return dump_product(service.get_product(product_id, viewer=_user()))


@endpoint(
    "/products/<int:product_id>",
    "PATCH",
    summary="Change a product (its merchant)",
    auth="merchant",
    body=ProductPatch,
    errors=(404, 409, 422),
    response=responses.Product,
)
def update_product(product_id: int, data: ProductPatch):
    product = service.get_product(product_id, viewer=_user())
    changes = data.model_dump(exclude_unset=True)
    if any(value is None for value in changes.values()):
        raise ValidationFailed(
            fields={k: ["Must not be null."] for k, v in changes.items() if v is None}
        )
    return dump_product(service.update_product(_user(), product, **changes))


@endpoint(
    "/products/<int:product_id>",
    "DELETE",
    summary="Archive a product (its cards show unavailable)",
    auth="merchant",
    status=204,
    errors=(404,),
)
def archive_product(product_id: int):
    product = service.get_product(product_id, viewer=_user())
    service.archive_product(_user(), product)


@endpoint(
    "/products/<int:product_id>/image",
    "POST",
    summary="Upload a product image (multipart field `image`: JPEG, PNG, WebP or GIF)",
    auth="merchant",
    errors=(404, 413, 422, 429),  # 429 uploads_busy: every decode slot taken
    response=responses.Product,
)
def upload_image(product_id: int):
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


@endpoint(
    "/merchant/products",
    "GET",
    summary="The caller's products, archived included",
    auth="merchant",
    response=responses.ProductList,
)
def my_products():
    merchant = service.require_merchant(_user())
    products = service.merchant_products(merchant, include_archived=True)
    stock = service.available_stock(p.id for p in products)
    return {"items": [dump_product(p, stock.get(p.id, 0)) for p in products], "next_cursor": None}


# --- orders ------------------------------------------------------------------------


@endpoint(
    "/orders",
    "POST",
    summary="Place an order (reserves stock); honours Idempotency-Key",
    body=OrderBody,
    status=201,
    errors=(403, 409, 422, 429),
    response=responses.Order,
)
def create_order(data: OrderBody):
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
    "/checkout",
    "POST",
    summary="Place and pay an order in one call (all or nothing); honours Idempotency-Key",
    body=CheckoutBody,
    status=201,
    errors=(403, 409, 422, 429),
    response=responses.Order,
)
def checkout(data: CheckoutBody):
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


@endpoint(
    "/checkout/quote",
    "POST",
    summary="What an order of these items would cost the caller now (every price rule applied)",
    body=QuoteBody,
    errors=(403, 409, 422),
    response=PriceQuoteOut,
)
def checkout_quote(data: QuoteBody):
    quote = service.price_quote(
        _user(), [(line.product_id, line.quantity) for line in data.items], choices=data.choices()
    )
    return quote.as_json()


@endpoint(
    "/orders",
    "GET",
    summary="The caller's orders, newest first",
    errors=(422,),
    query=PAGE,
    response=responses.OrderPage,
)
def my_orders():
    page = service.orders_of_buyer(_user(), **page_args())
    return page.dump(dump_order)


@endpoint(
    "/merchant/orders",
    "GET",
    summary="Orders of the caller's shop, newest first",
    auth="merchant",
    errors=(422,),
    query=(("status", {"type": "string", "enum": list(ORDER_STATUSES)}), *PAGE),
    response=responses.OrderPage,
)
def merchant_orders():
    status = request.args.get("status") or None
    if status is not None and status not in ORDER_STATUSES:
        raise ValidationFailed(fields={"status": [f"Use one of {', '.join(ORDER_STATUSES)}."]})
    page = service.orders_of_merchant(
        _user(),
        status=status,
        **page_args(),
    )
    return page.dump(dump_order)


@endpoint(
    "/orders/<int:order_id>",
    "GET",
    summary="An order with items, totals and history (buyer, merchant, admin)",
    errors=(404,),
    response=responses.Order,
)
def get_order(order_id: int):
    return dump_order(service.get_order(order_id, _user()), events=True)


def _act_on_order(order_id: int, action):
    """Find the order as the caller may see it (404 otherwise), act, answer with its history."""
    order = service.get_order(order_id, _user())
    return dump_order(action(order), events=True)


@endpoint(
    "/orders/<int:order_id>/pay",
    "POST",
    summary="Pay an order (buyer): sandbox pays at once, offline awaits the merchant",
    body=PayBody,
    errors=(403, 404, 409, 422),
    response=responses.Order,
)
def pay_order(order_id: int, data: PayBody):
    return _act_on_order(order_id, lambda order: service.pay(_user(), order, data.provider))


@endpoint(
    "/orders/<int:order_id>/shipping-address",
    "PUT",
    summary="Give or correct where an order goes, until it ships (buyer)",
    body=AddressBody,
    errors=(403, 404, 409, 422),
    response=responses.Order,
)
def set_shipping_address(order_id: int, data: AddressBody):
    address = data.shipping_address.model_dump()
    return _act_on_order(
        order_id, lambda order: service.set_shipping_address(_user(), order, address)
    )


@endpoint(
    "/orders/<int:order_id>/mark-paid",
    "POST",
    summary="Confirm an offline payment (its merchant, admin)",
    errors=(403, 404, 409),
    response=responses.Order,
)
def mark_paid(order_id: int):
    return _act_on_order(order_id, lambda order: service.mark_paid(_user(), order))


@endpoint(
    "/orders/<int:order_id>/ship",
    "POST",
    summary="Mark a paid order shipped (its merchant, admin)",
    body=ShipBody,
    errors=(403, 404, 409, 422),
    response=responses.Order,
)
def ship_order(order_id: int, data: ShipBody):
    return _act_on_order(
        order_id, lambda order: service.ship(_user(), order, tracking=data.tracking)
    )


@endpoint(
    "/orders/<int:order_id>/complete",
    "POST",
    summary="Confirm delivery (buyer, its merchant, admin)",
    errors=(403, 404, 409),
    response=responses.Order,
)
def complete_order(order_id: int):
    return _act_on_order(order_id, lambda order: service.complete(_user(), order))


@endpoint(
    "/orders/<int:order_id>/cancel",
    "POST",
    summary="Cancel an unpaid order; its stock is released",
    body=ReasonBody,
    errors=(403, 404, 409, 422),
    response=responses.Order,
)
def cancel_order(order_id: int, data: ReasonBody):
    return _act_on_order(order_id, lambda order: service.cancel(_user(), order, reason=data.reason))


@endpoint(
    "/orders/<int:order_id>/refund",
    "POST",
    summary="Refund a paid order, or part of it (its merchant, admin); a full refund restores stock",
    body=RefundBody,
    errors=(403, 404, 409, 422),
    response=responses.Order,
)
def refund_order(order_id: int, data: RefundBody):
    return _act_on_order(
        order_id,
        lambda order: service.refund(
            _user(), order, reason=data.reason, amount_cents=data.amount_cents
        ),
    )
