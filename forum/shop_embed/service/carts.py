"""Quotes and the session cart: lines of one merchant priced in integer cents."""

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ...clock import now
from ...database import prepared
from ...errors import ValidationFailed, field_error
from ...extensions import db
from ..models import Merchant, Product
from .common import MAX_LINES, MAX_QUANTITY, _whole
from .merchants import shipping_for
from .stock import available_units


@dataclass
class QuoteLine:
    product: Product
    quantity: int
    available: int

    @property
    def line_total_cents(self) -> int:
        return self.product.price_cents * self.quantity


@dataclass
class Quote:
    """Prices for a set of lines of one merchant, as checkout shows and orders store them."""

    merchant: Merchant
    lines: list[QuoteLine]
    currency: str
    subtotal_cents: int
    shipping_cents: int
    total_cents: int
    problems: dict[str, list[str]] = field(default_factory=dict)


def normalise_lines(raw_lines) -> list[tuple[int, int]]:
    """Validate ``[(product_id, quantity)...]``; merge repeats. Raises ValidationFailed with item fields."""
    if not isinstance(raw_lines, list | tuple) or not raw_lines:
        raise field_error("items", "Add at least one product.", code="empty_order")
    if len(raw_lines) > MAX_LINES:
        raise field_error("items", f"At most {MAX_LINES} different products per order.")
    errors: dict[str, list[str]] = {}
    merged: dict[int, int] = {}
    for index, line in enumerate(raw_lines):
        product_id, quantity = (
            line if isinstance(line, tuple | list) and len(line) == 2 else (None, None)
        )
        if isinstance(product_id, bool) or not isinstance(product_id, int) or product_id < 1:
            errors[f"items.{index}.product_id"] = ["Name a product by its id."]
            continue
        if (
            _whole(
                quantity,
                f"items.{index}.quantity",
                1,
                MAX_QUANTITY,
                f"Choose a quantity from 1 to {MAX_QUANTITY}.",
                errors,
            )
            is None
        ):
            continue
        merged[product_id] = merged.get(product_id, 0) + quantity
        if merged[product_id] > MAX_QUANTITY:
            errors[f"items.{index}.quantity"] = [
                f"At most {MAX_QUANTITY} of one product per order."
            ]
    if errors:
        raise ValidationFailed("Some items are not valid.", fields=errors)
    return sorted(merged.items())


def quote(lines: list[tuple[int, int]], *, raw_index: dict[int, int] | None = None) -> Quote:
    """Price normalised lines. Raises ValidationFailed for unknown/unavailable products or mixed shops."""
    ids = [product_id for product_id, _ in lines]
    # What can be bought comes in the same statement as the products (one read, not two).
    rows = db.session.execute(_products_statement(), {"ids": ids, "at": now()}).all()
    products = {product.id: product for product, _ in rows}
    available = {product.id: int(units) for product, units in rows}
    index_of = raw_index or {product_id: n for n, (product_id, _) in enumerate(lines)}
    errors: dict[str, list[str]] = {}
    for product_id in ids:
        product = products.get(product_id)
        if product is None or not product.is_buyable:
            errors[f"items.{index_of[product_id]}.product_id"] = [
                "That product does not exist or is no longer sold."
            ]
    if errors:
        raise ValidationFailed(
            "Some products are not available.", code="unknown_product", fields=errors
        )
    merchants = {products[pid].merchant_id for pid in ids}
    if len(merchants) > 1:
        raise ValidationFailed(
            "An order is for one merchant at a time; check out each shop separately.",
            code="mixed_merchants",
            fields={"items": ["All products must come from the same shop."]},
        )
    merchant = products[ids[0]].merchant
    quote_lines = [QuoteLine(products[pid], qty, available.get(pid, 0)) for pid, qty in lines]
    subtotal = sum(line.line_total_cents for line in quote_lines)
    shipping = shipping_for(merchant, subtotal)
    problems = {
        f"items.{index_of[line.product.id]}.quantity": [f"Only {max(line.available, 0)} left."]
        for line in quote_lines
        if line.quantity > line.available
    }
    return Quote(
        merchant, quote_lines, merchant.currency, subtotal, shipping, subtotal + shipping, problems
    )


@prepared
def _products_statement():
    """The products among ``ids`` with their merchants and buyable units at ``at``."""
    return (
        select(Product, available_units(bindparam("at")))
        .options(joinedload(Product.merchant))
        .where(Product.id.in_(bindparam("ids", expanding=True)))
    )


def cart_add(cart: dict | None, product: Product, quantity) -> dict:
    """A new cart (``{"merchant_id", "items": {product_id: qty}}``) with ``quantity`` more of ``product``.

    Pure: the caller stores the result (the web cart lives in the session).
    Raises ValidationFailed when the product belongs to another shop than the cart's.
    """
    cart = {
        "merchant_id": (cart or {}).get("merchant_id"),
        "items": dict((cart or {}).get("items") or {}),
    }
    if not product.is_buyable:
        raise field_error("product_id", "That product is no longer sold.", code="unknown_product")
    if (
        _whole(
            quantity,
            "quantity",
            1,
            MAX_QUANTITY,
            f"Choose a quantity from 1 to {MAX_QUANTITY}.",
            {},
        )
        is None
    ):
        raise field_error("quantity", f"Choose a quantity from 1 to {MAX_QUANTITY}.")
    if cart["items"] and cart["merchant_id"] not in (None, product.merchant_id):
        raise ValidationFailed(
            "Your cart holds another shop's products; check out or empty it first.",
            code="mixed_merchants",
            fields={"product_id": ["Your cart holds another shop's products."]},
        )
    key = str(product.id)
    total = int(cart["items"].get(key, 0)) + quantity
    if total > MAX_QUANTITY:
        raise field_error("quantity", f"At most {MAX_QUANTITY} of one product per order.")
    cart["items"][key] = total
    cart["merchant_id"] = product.merchant_id
    return cart


def cart_set(cart: dict | None, product_id: int, quantity) -> dict:
    """Set a line's quantity (0 removes it)."""
    cart = {
        "merchant_id": (cart or {}).get("merchant_id"),
        "items": dict((cart or {}).get("items") or {}),
    }
    if _whole(quantity, "quantity", 0, MAX_QUANTITY, "", {}) is None:
        raise field_error("quantity", f"Choose a quantity from 0 to {MAX_QUANTITY}.")
    key = str(product_id)
    if quantity == 0:
        cart["items"].pop(key, None)
    elif key in cart["items"]:
        cart["items"][key] = quantity
    if not cart["items"]:
        cart["merchant_id"] = None
    return cart


def cart_lines(cart: dict | None) -> list[tuple[int, int]]:
    items = (cart or {}).get("items") or {}
    lines = []
    for key, qty in items.items():
        if str(key).isdigit() and isinstance(qty, int) and qty > 0:
            lines.append((int(key), qty))
    return sorted(lines)


def cart_quote(cart: dict | None) -> Quote | None:
    """The cart priced now; products that vanished are dropped. None for an empty cart."""
    lines = cart_lines(cart)
    if not lines:
        return None
    ids = [pid for pid, _ in lines]
    buyable = set(
        db.session.scalars(select(Product.id).where(Product.id.in_(ids), Product.is_buyable))
    )
    lines = [(pid, qty) for pid, qty in lines if pid in buyable]
    if not lines:
        return None
    try:
        return quote(lines)
    except ValidationFailed:
        return None
