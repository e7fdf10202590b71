"""Checkout: the one way to buy and pay, used by the checkout page and ``POST /api/v1/checkout``.

Prices come from ``pricing.price_quote`` (every price rule in one place); the two-call
API path (``POST /orders`` then ``/orders/{id}/pay``) uses the same ``place_order`` and
``pay`` underneath.
"""

from typing import Any, NotRequired, TypedDict, Unpack

from ...accounts.models import User
from ...errors import Conflict
from .. import payments as providers
from ..models import Order
from .common import _address
from .orders import place_order
from .payments import pay
from .pricing import price_quote


class CheckoutTerms(TypedDict):
    """What a checkout takes besides the buyer and the lines: ``checkout_replayed``'s
    keywords, said once for ``checkout`` too."""

    address: object
    provider: object
    idempotency_key: NotRequired[str | None]
    choices: NotRequired[dict[str, Any] | None]


def checkout(buyer: User, lines: object, **terms: Unpack[CheckoutTerms]) -> Order:
    """Place and pay ``lines`` in one transaction; returns the order (see ``checkout_replayed``)."""
    return checkout_replayed(buyer, lines, **terms)[0]


def checkout_replayed(
    buyer: User,
    lines: object,
    *,
    address: object,
    provider: object,
    idempotency_key: str | None = None,
    choices: dict[str, Any] | None = None,
) -> tuple[Order, bool]:
    """Place an order for ``lines`` and pay it with ``provider``; returns (order, replayed).

    Checks everything that can be checked before writing: the lines and products,
    the address (goods ship: Conflict ``address_required`` without one,
    ValidationFailed for an incomplete one) and the provider (ValidationFailed
    ``unknown_provider`` / ``provider_unavailable``). Then ``place_order`` (prices from
    ``price_quote``, the held-units cap, pending-order and rate limits, Conflict
    ``insufficient_stock``) and ``pay``: ``sandbox`` returns the order ``paid``,
    ``offline`` returns it ``pending`` with its holds extended to the offline window.

    Atomic: when anything refuses, payment included (Conflict ``payment_declined``),
    the error propagates and the caller rolls back, so no order row, no hold and no
    stock change remain. With ``idempotency_key`` a replay returns the first order
    and writes nothing (then ``replayed`` is True). ``choices`` (store credit, points, a coupon code)
    go to the price steps as in ``place_order``.
    """
    clean = _address(address)
    if not clean:
        raise Conflict(
            "Add a shipping address first.",
            code="address_required",
            fields={"shipping_address": ["Required before the order is paid or shipped."]},
        )
    priced = price_quote(buyer, lines, choices=choices)
    chosen = providers.provider_named(provider, merchant=priced.merchant)
    order, replayed = place_order(
        buyer, lines, shipping_address=clean, idempotency_key=idempotency_key, choices=choices
    )
    if not replayed:
        pay(buyer, order, chosen.name)
    return order, replayed
