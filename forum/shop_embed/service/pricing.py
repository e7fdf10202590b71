"""Prices: every price rule applied in one place, as explicit steps over a ``PriceQuote``.

The checkout page shows the quote, ``place_order`` stores it, ``checkout`` charges it.
Rules today, in order:

1. the unit price: the product's list price, or an offer's (``unit_prices``);
2. shipping: the merchant's fee, free from its threshold (``shipping_for``).

Later rules (coupon, tier perks such as free freight and rebates, credit, points)
are further steps in ``PRICE_STEPS``: each reads the quote so far and the buyer and
returns an ``Adjustment``; ``total_cents`` is always the subtotal plus every adjustment.
A feature adds its steps to ``PRICE_STEPS`` in its ``init_app`` (members: the audience
check, VIP free freight, a coupon, the rebate, store credit and points). What the buyer
chose at checkout (``coupon_code``, ``use_credit_cents``, ``use_points``, an offer's
``audience``...) reaches the steps as ``PriceQuote.choices``. A step may refuse (raise a
ServiceError): the quote, and so the order, is refused on every path. What a step
promised (a coupon use) is claimed by its feature on ``signals.order_priced``, sent by
``place_order`` before stock is reserved.

3. a coupon (``members.coupons.service.coupon_step``): a discount on the merchandise.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...accounts.models import User
from ..models import Merchant, Product
from .carts import normalise_lines, quote
from .merchants import shipping_for


@dataclass(frozen=True)
class PriceLine:
    product: Product
    quantity: int
    unit_price_cents: int
    available: int

    @property
    def product_id(self) -> int:
        return self.product.id

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def line_total_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True)
class Adjustment:
    """One price rule's effect on the order: ``amount_cents`` is added to the total
    (a charge is positive, a discount negative). ``kind`` names the rule."""

    kind: str  # "shipping", "coupon", "rebate", "credit", "points"
    label: str
    amount_cents: int
    # Facts the order keeps beside the amount (points spent, rebate earned, perk ...).
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class PriceQuote:
    """What the buyer pays for lines of one merchant, as the page shows and the order stores."""

    merchant: Merchant
    currency: str
    lines: list[PriceLine]
    adjustments: list[Adjustment] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)  # e.g. not enough stock now
    choices: dict[str, Any] = field(
        default_factory=dict
    )  # what the buyer chose (coupon, credit, points...)

    @property
    def subtotal_cents(self) -> int:
        return sum(line.line_total_cents for line in self.lines)

    def adjustment(self, kind: str) -> int:
        return sum(a.amount_cents for a in self.adjustments if a.kind == kind)

    @property
    def shipping_cents(self) -> int:
        return self.adjustment("shipping")

    def info(self, key: str) -> int:
        return sum(int(a.info.get(key, 0)) for a in self.adjustments)

    @property
    def discount_cents(self) -> int:
        """The coupon's discount on the merchandise, as a positive amount."""
        return -self.adjustment("coupon")

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents + sum(a.amount_cents for a in self.adjustments)

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "items": [
                {
                    "product_id": line.product_id,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "line_total_cents": line.line_total_cents,
                }
                for line in self.lines
            ],
            "adjustments": [
                {"kind": a.kind, "label": a.label, "amount_cents": a.amount_cents}
                for a in self.adjustments
            ],
            "rebate_cents": self.info("rebate_cents"),
            "subtotal_cents": self.subtotal_cents,
            "discount_cents": self.discount_cents,
            "shipping_cents": self.shipping_cents,
            "total_cents": self.total_cents,
        }


PriceStep = Callable[[PriceQuote, object], Adjustment | None]


def _shipping(priced: PriceQuote, buyer: object) -> Adjustment:
    fee = shipping_for(priced.merchant, priced.subtotal_cents)
    return Adjustment("shipping", "Shipping" if fee else "Free shipping", fee)


# The price rules after the unit prices, applied in this order. A step sees the
# quote so far (subtotal and the adjustments before it) and the buyer.
PRICE_STEPS: list[PriceStep] = [_shipping]


def price_quote(
    buyer: User | None,
    lines: object,
    *,
    unit_prices: dict[int, int] | None = None,
    raw_index: dict[int, int] | None = None,
    choices: dict[str, Any] | None = None,
) -> PriceQuote:
    """Price ``lines`` (``[(product_id, quantity)]``, normalised or not) for ``buyer``.

    Read-only. Raises ValidationFailed for bad lines, unknown or unavailable
    products and mixed shops; a shortage of stock is reported in ``problems``
    (placing refuses it). ``unit_prices`` ({product_id: cents}) is an offer's price;
    ``choices`` what the buyer chose for the steps (see the module docstring).
    """
    priced = quote(normalise_lines(lines), raw_index=raw_index)
    prices = {line.product.id: line.product.price_cents for line in priced.lines}
    prices.update(unit_prices or {})
    result = PriceQuote(
        merchant=priced.merchant,
        currency=priced.currency,
        lines=[
            PriceLine(line.product, line.quantity, prices[line.product.id], line.available)
            for line in priced.lines
        ],
        problems=dict(priced.problems),
        choices=dict(choices or {}),
    )
    for step in PRICE_STEPS:
        adjustment = step(result, buyer)
        if adjustment is not None:
            result.adjustments.append(adjustment)
    return result
