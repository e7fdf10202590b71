"""Shop rules: merchants, products, stock, carts, orders and their state machine.

Every write goes through here; views, the API, jobs and the demo only parse
input and call these functions. Functions check first and then write; a refusal
raises a ``forum.errors`` ServiceError before anything is written (or the caller
rolls the transaction back, which the API and views do).

Stock (see models.py for the conservation rule):
- Taking units is ONE conditional statement,
  ``UPDATE shop_products SET stock = stock - :q WHERE id = :id AND stock >= :q``,
  checked through RETURNING; nothing reads stock and then writes it.
- An unpaid order's hold expires at ``expires_at``. Expired holds stop counting
  at once: ``available_stock`` adds them back, and a buyer who needs those units
  releases them (conditionally, so each hold is released exactly once) before
  retrying the statement. The ``shop.expire_orders`` job tidies the rest up.
- Locks are always taken in one global order, so PostgreSQL never deadlocks:
  at most one order row first, then per product in ascending id: the product
  row, then that product's holds. Code that touches holds locks their product
  first (``_lock_product``), except paying, which only consumes the order's own
  holds (product by product, ascending) and locks nothing after them. The expiry
  job commits after each order so it never goes back from products to orders.

Order states: pending -> paid -> shipped -> completed, or pending -> cancelled,
and paid/shipped/completed -> refunded. Every change goes through
``change_status`` (one conditional UPDATE on the status), which appends an
``OrderEvent`` and calls the listeners registered with ``on_order_event``, so
attribution and promotions can react without this package knowing them.
"""

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, render_template, url_for
from markupsafe import Markup
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from .. import embeds, jobs, markup, realtime
from ..accounts.models import User
from ..clock import now
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ..extensions import db
from ..live import room_rule
from ..pagination import decode, encode
from . import images, payments
from .models import Merchant, Order, OrderEvent, OrderItem, Payment, Product, StockReservation

CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY")
MAX_PRICE_CENTS = 100_000_000  # 1,000,000.00 in the currency
MAX_STOCK = 1_000_000
MAX_QUANTITY = 99
MAX_LINES = 20
LOW_STOCK = 5  # "only N left" from here down
NAME_MAX = 120
DESCRIPTION_MAX = 20_000
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
ADDRESS_FIELDS = {"name": 80, "line1": 120, "line2": 120, "city": 80, "postal_code": 20, "country": 56}
ADDRESS_REQUIRED = ("name", "line1", "city", "postal_code", "country")
PAID_STATUSES = ("paid", "shipped", "completed")
OFFLINE_WINDOW_HOURS = 72


# --- listeners ---------------------------------------------------------------------

OrderListener = Callable[[Order, OrderEvent], None]
_listeners: list[OrderListener] = []


def on_order_event(callback: OrderListener) -> OrderListener:
    """Call ``callback(order, event)`` for every event any order records, inside its transaction.

    Events: ``placed``, ``payment_started``, ``paid``, ``shipped``, ``completed``,
    ``cancelled``, ``expired`` (to cancelled), ``refunded``, ``source_set``. A listener
    that raises a ServiceError refuses the change (the caller rolls back).
    Usable as a decorator; registering the same callback twice has no effect.
    """
    if callback not in _listeners:
        _listeners.append(callback)
    return callback


def remove_order_listener(callback: OrderListener) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


# --- small checks ------------------------------------------------------------------


def is_merchant(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.has_role("merchant"))


def is_admin(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.is_admin)


def _whole(value, name: str, low: int, high: int, message: str, errors: dict) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.setdefault(name, []).append(message)
        return None
    return value


def _text(value, name: str, low: int, high: int, message: str, errors: dict) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not low <= len(text) <= high:
        errors.setdefault(name, []).append(message)
    return text


# --- merchants ---------------------------------------------------------------------


def merchant_of(user) -> Merchant | None:
    if not user or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Merchant).where(Merchant.user_id == user.id))


def _initials(name: str) -> str:
    words = [w for w in re.split(r"[\s_\-]+", name) if w]
    letters = "".join(w[0] for w in words[:2]) or name[:2]
    return letters[:2].upper()


def _free_slug(base: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:40] or "shop"
    slug, n = base, 1
    while db.session.scalar(select(Merchant.id).where(Merchant.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def require_merchant(user, *, currency: str | None = None) -> Merchant:
    """The merchant profile of ``user``; made with defaults on first use. Forbidden without the role."""
    if not is_merchant(user):
        raise Forbidden("Only merchants can do that.", code="not_a_merchant")
    merchant = merchant_of(user)
    if merchant is None:
        name = user.username.replace("_", " ").title()
        merchant = Merchant(
            user_id=user.id, name=name, slug=_free_slug(user.username), logo_initials=_initials(name),
            currency=currency if currency in CURRENCIES else "USD", shipping_fee_cents=0,
        )
        db.session.add(merchant)
        db.session.flush()
    return merchant


def save_merchant_profile(user, *, name, slug, logo_initials, tagline="", currency="USD",
                          shipping_fee_cents=0, free_shipping_threshold_cents=None) -> Merchant:
    """Create or update ``user``'s shop profile. Raises ValidationFailed / Conflict(slug_taken)."""
    if not is_merchant(user):
        raise Forbidden("Only merchants have a shop profile.", code="not_a_merchant")
    errors: dict[str, list[str]] = {}
    name = _text(name, "name", 2, 80, "Use 2-80 characters.", errors)
    slug = (slug or "").strip().lower() if isinstance(slug, str) else ""
    if not SLUG_RE.match(slug) or len(slug) > 48:
        errors["slug"] = ["Use lowercase letters, digits and single dashes (max 48)."]
    initials = (logo_initials or "").strip().upper() if isinstance(logo_initials, str) else ""
    if not 1 <= len(initials) <= 3 or not initials.isalnum():
        errors["logo_initials"] = ["Use 1-3 letters or digits."]
    tagline = _text(tagline or "", "tagline", 0, 160, "Keep it under 160 characters.", errors)
    if currency not in CURRENCIES:
        errors["currency"] = [f"Choose one of {', '.join(CURRENCIES)}."]
    _whole(shipping_fee_cents, "shipping_fee_cents", 0, 1_000_000, "Use an amount from 0 to 10,000.", errors)
    if free_shipping_threshold_cents is not None:
        _whole(free_shipping_threshold_cents, "free_shipping_threshold_cents", 0, MAX_PRICE_CENTS,
               "Use an amount of 0 or more, or leave it empty.", errors)
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    merchant = merchant_of(user)
    taken = db.session.scalar(select(Merchant.id).where(Merchant.slug == slug))
    if taken and (merchant is None or taken != merchant.id):
        raise Conflict("That shop address is taken.", code="slug_taken", fields={"slug": ["That address is taken."]})
    if merchant is not None and currency != merchant.currency:
        priced = db.session.scalar(
            select(func.count()).select_from(Product).where(
                Product.merchant_id == merchant.id, Product.archived_at.is_(None)
            )
        )
        if priced:
            raise field_error("currency", f"Your products are priced in {merchant.currency}; archive them first.")
    if merchant is None:
        merchant = Merchant(user_id=user.id)
        db.session.add(merchant)
    merchant.name, merchant.slug, merchant.logo_initials, merchant.tagline = name, slug, initials, tagline
    merchant.currency = currency
    merchant.shipping_fee_cents = shipping_fee_cents
    merchant.free_shipping_threshold_cents = free_shipping_threshold_cents
    db.session.flush()
    return merchant


def get_merchant(slug: str) -> Merchant:
    merchant = db.session.scalar(select(Merchant).where(Merchant.slug == slug))
    if merchant is None:
        raise NotFound("No such shop.")
    return merchant


def list_merchants() -> list[Merchant]:
    return list(db.session.scalars(select(Merchant).order_by(Merchant.name)))


def shipping_for(merchant: Merchant, subtotal_cents: int) -> int:
    threshold = merchant.free_shipping_threshold_cents
    if threshold is not None and subtotal_cents >= threshold:
        return 0
    return merchant.shipping_fee_cents


# --- products ----------------------------------------------------------------------


def _check_product(errors: dict, *, name=None, description=None, price_cents=None, currency=None, stock=None,
                   active=None, merchant: Merchant, partial: bool = False) -> dict:
    values: dict = {}
    if not partial or name is not None:
        values["name"] = _text(name, "name", 2, NAME_MAX, f"Use 2-{NAME_MAX} characters.", errors)
    if not partial or description is not None:
        if description is None:
            description = ""
        if not isinstance(description, str) or len(description) > DESCRIPTION_MAX:
            errors["description"] = [f"Keep it under {DESCRIPTION_MAX:,} characters."]
        else:
            values["description"] = description
    if not partial or price_cents is not None:
        values["price_cents"] = _whole(
            price_cents, "price_cents", 0, MAX_PRICE_CENTS,
            "Use a price of 0 or more (in cents), at most 100,000,000.", errors,
        )
    if not partial or currency is not None:
        if currency not in CURRENCIES:
            errors["currency"] = [f"Choose one of {', '.join(CURRENCIES)}."]
        elif currency != merchant.currency:
            errors["currency"] = [f"Your shop sells in {merchant.currency}."]
        values["currency"] = currency
    if not partial or stock is not None:
        values["stock"] = _whole(stock, "stock", 0, MAX_STOCK, f"Use a whole number from 0 to {MAX_STOCK:,}.", errors)
    if active is not None:
        if not isinstance(active, bool):
            errors["active"] = ["Use true or false."]
        values["active"] = active
    return values


def create_product(actor, *, name, description="", price_cents, currency=None, stock, active=True,
                   image: bytes | None = None) -> Product:
    """A new product of ``actor``'s shop. Raises Forbidden (not a merchant) or ValidationFailed."""
    merchant = require_merchant(actor, currency=currency)
    errors: dict[str, list[str]] = {}
    values = _check_product(errors, name=name, description=description, price_cents=price_cents,
                            currency=currency or merchant.currency, stock=stock, active=active, merchant=merchant)
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    image_name = images.store(image) if image is not None else None
    at = now()
    product = Product(
        merchant_id=merchant.id, description_html=markup.render(values["description"]).html,
        image_name=image_name, created_at=at, updated_at=at, **values,
    )
    db.session.add(product)
    db.session.flush()
    return product


def owns_product(user, product: Product) -> bool:
    merchant = merchant_of(user) if is_merchant(user) else None
    return merchant is not None and merchant.id == product.merchant_id


def check_owner(actor, product: Product) -> Merchant:
    """The actor's shop when it owns ``product``; otherwise 404 (others may not even see drafts)."""
    merchant = merchant_of(actor) if is_merchant(actor) else None
    if merchant is None or product.merchant_id != merchant.id:
        raise NotFound("No such product.")
    return merchant


def update_product(actor, product: Product, **changes) -> Product:
    """Change some of name, description, price_cents, currency, stock, active (owner only).

    ``stock`` sets what can be bought from now on; expired holds are released first
    so the number the merchant sees is the number that counts.
    """
    merchant = check_owner(actor, product)
    if product.is_archived:
        raise Conflict("This product is archived.", code="product_archived")
    unknown = set(changes) - {"name", "description", "price_cents", "currency", "stock", "active"}
    if unknown:
        raise ValidationFailed(fields={name: ["Unknown field."] for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    values = _check_product(errors, merchant=merchant, partial=True, **changes)
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    stock = values.pop("stock", None)
    for key, value in values.items():
        setattr(product, key, value)
    if "description" in values:
        product.description_html = markup.render(values["description"]).html
    product.updated_at = now()
    db.session.flush()
    if stock is not None:
        _release_expired_holds(product.id)
        db.session.execute(
            update(Product).where(Product.id == product.id).values(stock=stock)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(product)
    _announce_stock([product.id])
    return product


def set_product_image(actor, product: Product, data: bytes) -> Product:
    check_owner(actor, product)
    name = images.store(data)
    old, product.image_name = product.image_name, name
    product.updated_at = now()
    db.session.flush()
    images.remove(old)
    return product


def archive_product(actor, product: Product) -> Product:
    """Archive (never delete: orders point at it). Its cards show "offer unavailable"."""
    check_owner(actor, product)
    if product.archived_at is None:
        product.archived_at = now()
        product.active = False
        product.updated_at = product.archived_at
        db.session.flush()
        _announce_stock([product.id])
    return product


def get_product(product_id: int, viewer=None) -> Product:
    """A product anyone may see (active, not archived); its owner and admins see all of theirs."""
    product = db.session.get(Product, product_id) if isinstance(product_id, int) else None
    if product is None:
        raise NotFound("No such product.")
    if not product.is_buyable and not is_admin(viewer):
        owner = merchant_of(viewer) if is_merchant(viewer) else None
        if owner is None or owner.id != product.merchant_id:
            raise NotFound("No such product.")
    return product


def merchant_products(merchant: Merchant, *, include_archived: bool = False, only_buyable: bool = False) -> list[Product]:
    query = select(Product).where(Product.merchant_id == merchant.id)
    if not include_archived:
        query = query.where(Product.archived_at.is_(None))
    if only_buyable:
        query = query.where(Product.active.is_(True))
    return list(db.session.scalars(query.order_by(Product.archived_at.isnot(None), Product.id.desc())))


def featured_products(limit: int = 12) -> list[Product]:
    return list(db.session.scalars(
        select(Product).options(joinedload(Product.merchant))
        .where(Product.active.is_(True), Product.archived_at.is_(None))
        .order_by(Product.id.desc()).limit(limit)
    ))


# --- stock -------------------------------------------------------------------------


def _expired_held():
    """Units per product in holds that have expired but were not released yet."""
    return (
        select(StockReservation.product_id, func.sum(StockReservation.quantity).label("units"))
        .where(StockReservation.state == "active", StockReservation.expires_at <= now())
        .group_by(StockReservation.product_id)
    )


def available_stock(product_ids: Iterable[int]) -> dict[int, int]:
    """What can be bought now, per product: the shelf plus expired, not yet released holds.

    One query whatever the number of ids; correct whether or not the expiry job ran.
    """
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    expired = _expired_held().where(StockReservation.product_id.in_(ids)).subquery()
    rows = db.session.execute(
        select(Product.id, Product.stock + func.coalesce(expired.c.units, 0))
        .outerjoin(expired, expired.c.product_id == Product.id)
        .where(Product.id.in_(ids))
    )
    return {pid: int(units) for pid, units in rows}


def stock_label(units: int) -> str:
    if units <= 0:
        return "Sold out"
    if units <= LOW_STOCK:
        return f"Only {units} left"
    return "In stock"


def _take_stock(product_id: int, quantity: int) -> bool:
    """THE guard: one conditional statement; True when ``quantity`` units were taken."""
    taken = db.session.execute(
        update(Product)
        .where(
            Product.id == product_id,
            Product.stock >= quantity,
            Product.active.is_(True),
            Product.archived_at.is_(None),
        )
        .values(stock=Product.stock - quantity)
        .returning(Product.stock)
        .execution_options(synchronize_session=False)
    ).first()
    return taken is not None


def _give_back(product_id: int, quantity: int) -> None:
    if quantity:
        db.session.execute(
            update(Product).where(Product.id == product_id).values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )


def _lock_product(product_id: int) -> None:
    """Row-lock a product before touching its holds (the lock order; see the module doc).

    FOR NO KEY UPDATE is what an UPDATE of the stock takes anyway. SQLite has no
    row locks: it runs one writer at a time, so there is nothing to order.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(select(Product.id).where(Product.id == product_id).with_for_update(key_share=True))


def _release_expired_holds(product_id: int) -> int:
    """Release every expired active hold of one product; returns the units given back.

    Each hold changes state in a conditional UPDATE, so a hold is released once
    however many buyers and jobs race for it.
    """
    _lock_product(product_id)
    released = db.session.execute(
        update(StockReservation)
        .where(
            StockReservation.product_id == product_id,
            StockReservation.state == "active",
            StockReservation.expires_at <= now(),
        )
        .values(state="released", settled_at=now())
        .returning(StockReservation.quantity)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    units = sum(released)
    _give_back(product_id, units)
    return units


def _release_order_holds(order: Order, *, states=("active",), to_state="released") -> list[int]:
    """Give back the order's holds in ``states``, product by product in ascending id (lock order)."""
    product_ids = sorted({item.product_id for item in order.items})
    touched = []
    for product_id in product_ids:
        _lock_product(product_id)
        units = sum(db.session.execute(
            update(StockReservation)
            .where(
                StockReservation.order_id == order.id,
                StockReservation.product_id == product_id,
                StockReservation.state.in_(states),
            )
            .values(state=to_state, settled_at=now())
            .returning(StockReservation.quantity)
            .execution_options(synchronize_session=False)
        ).scalars().all())
        if units:
            _give_back(product_id, units)
            touched.append(product_id)
    return touched


def _announce_stock(product_ids: Iterable[int]) -> None:
    """Queue the live stock of each product to its offer room (sent after commit)."""
    ids = list(product_ids)
    buyable = set(db.session.scalars(
        select(Product.id).where(Product.id.in_(ids), Product.active.is_(True), Product.archived_at.is_(None))
    )) if ids else set()
    for product_id, units in available_stock(ids).items():
        shown = units if product_id in buyable else 0
        realtime.announce(
            "offer_stock",
            {
                "kind": "product",
                "id": product_id,
                "stock": shown,
                "label": stock_label(shown) if product_id in buyable else "Unavailable",
                "sold_out": shown <= 0,
                "available": product_id in buyable,
            },
            room=offer_room(product_id),
        )


def offer_room(product_id: int) -> str:
    return f"offer:product:{product_id}"


# --- carts and quotes --------------------------------------------------------------


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


def _normalise_lines(raw_lines) -> list[tuple[int, int]]:
    """Validate ``[(product_id, quantity)...]``; merge repeats. Raises ValidationFailed with item fields."""
    if not isinstance(raw_lines, list | tuple) or not raw_lines:
        raise field_error("items", "Add at least one product.", code="empty_order")
    if len(raw_lines) > MAX_LINES:
        raise field_error("items", f"At most {MAX_LINES} different products per order.")
    errors: dict[str, list[str]] = {}
    merged: dict[int, int] = {}
    for index, line in enumerate(raw_lines):
        product_id, quantity = line if isinstance(line, tuple | list) and len(line) == 2 else (None, None)
        if isinstance(product_id, bool) or not isinstance(product_id, int) or product_id < 1:
            errors[f"items.{index}.product_id"] = ["Name a product by its id."]
            continue
        if _whole(quantity, f"items.{index}.quantity", 1, MAX_QUANTITY,
                  f"Choose a quantity from 1 to {MAX_QUANTITY}.", errors) is None:
            continue
        merged[product_id] = merged.get(product_id, 0) + quantity
        if merged[product_id] > MAX_QUANTITY:
            errors[f"items.{index}.quantity"] = [f"At most {MAX_QUANTITY} of one product per order."]
    if errors:
        raise ValidationFailed("Some items are not valid.", fields=errors)
    return sorted(merged.items())


def quote(lines: list[tuple[int, int]], *, raw_index: dict[int, int] | None = None) -> Quote:
    """Price normalised lines. Raises ValidationFailed for unknown/unavailable products or mixed shops."""
    ids = [product_id for product_id, _ in lines]
    products = {
        p.id: p for p in db.session.scalars(
            select(Product).options(joinedload(Product.merchant)).where(Product.id.in_(ids))
        )
    }
    index_of = raw_index or {product_id: n for n, (product_id, _) in enumerate(lines)}
    errors: dict[str, list[str]] = {}
    for product_id in ids:
        product = products.get(product_id)
        if product is None or not product.is_buyable:
            errors[f"items.{index_of[product_id]}.product_id"] = ["That product does not exist or is no longer sold."]
    if errors:
        raise ValidationFailed("Some products are not available.", code="unknown_product", fields=errors)
    merchants = {products[pid].merchant_id for pid in ids}
    if len(merchants) > 1:
        raise ValidationFailed(
            "An order is for one merchant at a time; check out each shop separately.",
            code="mixed_merchants",
            fields={"items": ["All products must come from the same shop."]},
        )
    merchant = products[ids[0]].merchant
    available = available_stock(ids)
    quote_lines = [QuoteLine(products[pid], qty, available.get(pid, 0)) for pid, qty in lines]
    subtotal = sum(line.line_total_cents for line in quote_lines)
    shipping = shipping_for(merchant, subtotal)
    problems = {
        f"items.{index_of[line.product.id]}.quantity": [f"Only {max(line.available, 0)} left."]
        for line in quote_lines if line.quantity > line.available
    }
    return Quote(merchant, quote_lines, merchant.currency, subtotal, shipping, subtotal + shipping, problems)


def cart_add(cart: dict | None, product: Product, quantity) -> dict:
    """A new cart (``{"merchant_id", "items": {product_id: qty}}``) with ``quantity`` more of ``product``.

    Pure: the caller stores the result (the web cart lives in the session).
    Raises ValidationFailed when the product belongs to another shop than the cart's.
    """
    cart = {"merchant_id": (cart or {}).get("merchant_id"), "items": dict((cart or {}).get("items") or {})}
    if not product.is_buyable:
        raise field_error("product_id", "That product is no longer sold.", code="unknown_product")
    if _whole(quantity, "quantity", 1, MAX_QUANTITY, f"Choose a quantity from 1 to {MAX_QUANTITY}.", {}) is None:
        raise field_error("quantity", f"Choose a quantity from 1 to {MAX_QUANTITY}.")
    if cart["items"] and cart["merchant_id"] not in (None, product.merchant_id):
        raise ValidationFailed(
            "Your cart holds another shop's products; check out or empty it first.",
            code="mixed_merchants", fields={"product_id": ["Your cart holds another shop's products."]},
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
    cart = {"merchant_id": (cart or {}).get("merchant_id"), "items": dict((cart or {}).get("items") or {})}
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
    buyable = set(db.session.scalars(
        select(Product.id).where(Product.id.in_(ids), Product.active.is_(True), Product.archived_at.is_(None))
    ))
    lines = [(pid, qty) for pid, qty in lines if pid in buyable]
    if not lines:
        return None
    try:
        return quote(lines)
    except ValidationFailed:
        return None


# --- orders: reading ---------------------------------------------------------------


def can_view_order(viewer, order: Order) -> bool:
    if not viewer or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == order.buyer_id or is_admin(viewer):
        return True
    merchant = merchant_of(viewer) if is_merchant(viewer) else None
    return merchant is not None and merchant.id == order.merchant_id


def is_order_merchant(viewer, order: Order) -> bool:
    merchant = merchant_of(viewer) if is_merchant(viewer) else None
    return merchant is not None and merchant.id == order.merchant_id


def get_order(order_id, viewer) -> Order:
    """The order if ``viewer`` is its buyer, its merchant or an admin; 404 for everyone else.

    An unpaid order past its deadline is expired here too (the job would do it
    anyway), so every reader sees the same state.
    """
    order = db.session.get(Order, order_id) if isinstance(order_id, int) else None
    if order is None or not can_view_order(viewer, order):
        raise NotFound("No such order.")
    if order.status == "pending" and order.expires_at is not None and order.expires_at <= now():
        expire_order(order)
    return order


@dataclass
class Page:
    items: list
    next_cursor: str | None


def _page(query, cursor: str | None, limit: int) -> Page:
    after = decode(cursor, 1)
    if after is not None:
        if not isinstance(after[0], int):
            raise field_error("cursor", "That cursor is not valid.")
        query = query.where(Order.id < after[0])
    rows = list(db.session.scalars(
        query.options(selectinload(Order.items), joinedload(Order.merchant), joinedload(Order.buyer))
        .order_by(Order.id.desc()).limit(limit + 1)
    ).unique())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode([rows[-1].id]) if more else None)


def orders_of_buyer(user, *, cursor: str | None = None, limit: int = 20) -> Page:
    return _page(select(Order).where(Order.buyer_id == user.id), cursor, limit)


def orders_of_merchant(user, *, status: str | None = None, cursor: str | None = None, limit: int = 20) -> Page:
    merchant = require_merchant(user)
    query = select(Order).where(Order.merchant_id == merchant.id)
    if status:
        query = query.where(Order.status == status)
    return _page(query, cursor, limit)


# --- orders: the state machine -----------------------------------------------------

# to_status -> statuses it may come from
TRANSITIONS = {
    "paid": ("pending",),
    "shipped": ("paid",),
    "completed": ("shipped",),
    "cancelled": ("pending",),
    "refunded": PAID_STATUSES,
}
STAMPS = {"paid": "paid_at", "shipped": "shipped_at", "completed": "completed_at",
          "cancelled": "cancelled_at", "refunded": "refunded_at"}


def record_event(order: Order, event_type: str, *, actor=None, from_status: str | None = None,
                 to_status: str | None = None, **params) -> OrderEvent:
    """Append an event to ``order``'s history and tell the listeners. The only writer of OrderEvent."""
    event = OrderEvent(
        order_id=order.id, type=event_type, from_status=from_status, to_status=to_status,
        actor_id=getattr(actor, "id", None), params=params, created_at=now(),
    )
    db.session.add(event)
    db.session.flush()
    for listener in list(_listeners):
        listener(order, event)
    return event


def change_status(order: Order, to_status: str, *, actor=None, event_type: str | None = None,
                  conditions=(), **params) -> OrderEvent:
    """Move ``order`` to ``to_status`` if it is in an allowed state: one conditional UPDATE.

    Extra SQL ``conditions`` narrow it further (e.g. "not expired"). Raises
    Conflict (``already_paid`` / ``invalid_status``) and changes nothing when the
    order is not where the transition starts. Records the OrderEvent (type
    ``event_type`` or the status name) and runs the listeners.
    """
    allowed = TRANSITIONS[to_status]
    if db.session.get_bind().dialect.name != "sqlite":
        # Row lock so the recorded from_status is exact; SQLite serialises writers anyway.
        db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update(key_share=True))
    db.session.refresh(order, ["status"])
    from_status = order.status
    at = now()
    moved = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(allowed), *conditions)
        .values({"status": to_status, "updated_at": at, STAMPS[to_status]: at})
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        if to_status == "paid" and from_status in PAID_STATUSES:
            raise Conflict("This order is already paid.", code="already_paid")
        if to_status == "paid" and (from_status == "pending" or _expired_by_deadline(order)):
            raise Conflict("The time to pay this order has run out.", code="order_expired")
        raise Conflict(
            f"This order is {from_status}; it cannot become {to_status}.",
            code="invalid_status", fields={"status": [from_status]},
        )
    db.session.refresh(order)
    return record_event(order, event_type or to_status, actor=actor, from_status=from_status,
                        to_status=to_status, **params)


def _expired_by_deadline(order: Order) -> bool:
    return order.status == "cancelled" and db.session.scalar(
        select(OrderEvent.type).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id.desc()).limit(1)
    ) == "expired"


def _address(raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise field_error("shipping_address", "Give the address as an object.")
    errors: dict[str, list[str]] = {}
    address = {}
    for name, limit in ADDRESS_FIELDS.items():
        value = raw.get(name, "")
        value = value.strip() if isinstance(value, str) else None
        if value is None or len(value) > limit:
            errors[f"shipping_address.{name}"] = [f"Use at most {limit} characters."]
        elif not value and name in ADDRESS_REQUIRED:
            errors[f"shipping_address.{name}"] = ["Required."]
        else:
            address[name] = value
    extra = set(raw) - set(ADDRESS_FIELDS)
    for name in sorted(extra):
        errors[f"shipping_address.{name}"] = ["Unknown field."]
    if errors:
        raise ValidationFailed("Please complete the address.", fields=errors)
    return address


def _request_hash(kind: str, lines: list[tuple[int, int]], address: dict) -> str:
    canonical = json.dumps({"kind": kind, "items": lines, "address": address}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(buyer, key: str, request_hash: str) -> Order | None:
    existing = db.session.scalar(select(Order).where(Order.buyer_id == buyer.id, Order.idempotency_key == key))
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise ValidationFailed(
            "This Idempotency-Key was already used for a different order.",
            code="idempotency_key_reused", fields={"Idempotency-Key": ["Already used with a different body."]},
        )
    return existing


def payment_window() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("ORDER_PAYMENT_WINDOW_MINUTES", 30)))


def place_order(buyer, items, *, shipping_address=None, idempotency_key: str | None = None,
                kind: str = "standard") -> tuple[Order, bool]:
    """Reserve stock and create a pending order; returns (order, replayed).

    ``items`` is ``[(product_id, quantity), ...]`` of one merchant. With an
    ``idempotency_key`` the key is claimed by the order row itself (unique per
    buyer) in the same transaction: a replay with the same body returns the first
    order (replayed=True) and writes nothing; the same key with another body is
    refused (422 idempotency_key_reused).

    Raises ValidationFailed (bad lines, unknown product, mixed merchants, bad
    address), Forbidden (suspended) or Conflict(insufficient_stock). On a refusal
    the caller rolls back and nothing is written.
    """
    if getattr(buyer, "is_suspended", False):
        raise Forbidden("Your account is suspended.", code="suspended")
    raw_index: dict[int, int] = {}
    if isinstance(items, list | tuple):
        for n, line in enumerate(items):
            if isinstance(line, tuple | list) and len(line) == 2 and isinstance(line[0], int):
                raw_index.setdefault(line[0], n)
    lines = _normalise_lines(items)
    address = _address(shipping_address)
    if idempotency_key is not None and not IDEMPOTENCY_KEY_RE.match(idempotency_key):
        raise field_error("Idempotency-Key", "Use 1-128 visible ASCII characters.")
    request_hash = _request_hash(kind, lines, address)
    if idempotency_key is not None:
        first = _replay(buyer, idempotency_key, request_hash)
        if first is not None:
            return first, True
    priced = quote(lines, raw_index=raw_index)
    at = now()
    values = dict(
        kind=kind, buyer_id=buyer.id, merchant_id=priced.merchant.id, status="pending",
        currency=priced.currency, subtotal_cents=priced.subtotal_cents, shipping_cents=priced.shipping_cents,
        total_cents=priced.total_cents, shipping_address=address, idempotency_key=idempotency_key,
        request_hash=request_hash if idempotency_key else None, expires_at=at + payment_window(),
        created_at=at, updated_at=at,
    )
    # Claim the key before touching stock. ON CONFLICT DO NOTHING rather than a
    # savepoint: a concurrent twin waits on the unique index (PostgreSQL) and then
    # inserts nothing, so it finds the first order; no error, nothing to undo.
    order_id = _claim_order_row(values)
    if order_id is None:
        first = _replay(buyer, idempotency_key, request_hash)
        if first is None:  # pragma: no cover - the conflicting row vanished (its transaction rolled back)
            raise Conflict("Please try again.", code="retry")
        return first, True
    order = db.session.get(Order, order_id)
    shortages: dict[str, list[str]] = {}
    for line in priced.lines:  # ascending product id: the lock order
        product_id = line.product.id
        # Expired holds are released only when the shelf alone is short: the hot path is one statement.
        if not _take_stock(product_id, line.quantity) and (
            _release_expired_holds(product_id) == 0 or not _take_stock(product_id, line.quantity)
        ):
            left = available_stock([product_id]).get(product_id, 0)
            shortages[f"items.{raw_index.get(product_id, 0)}.quantity"] = [
                f"Only {left} left of {line.product.name}." if left > 0 else f"{line.product.name} is sold out."
            ]
    if shortages:
        raise Conflict("Not enough stock for this order.", code="insufficient_stock", fields=shortages)
    for line in priced.lines:
        db.session.add(OrderItem(
            order_id=order.id, product_id=line.product.id, name=line.product.name,
            unit_price_cents=line.product.price_cents, quantity=line.quantity,
            line_total_cents=line.line_total_cents,
        ))
        db.session.add(StockReservation(
            order_id=order.id, product_id=line.product.id, quantity=line.quantity,
            expires_at=order.expires_at, created_at=at,
        ))
    db.session.flush()
    db.session.refresh(order)
    record_event(order, "placed", actor=buyer, to_status="pending",
                 items=[[pid, qty] for pid, qty in lines], total_cents=order.total_cents)
    _announce_stock(pid for pid, _ in lines)
    return order, False


def _claim_order_row(values: dict) -> int | None:
    """Insert the order row; None when (buyer, idempotency key) already exists."""
    dialect = db.session.get_bind().dialect.name
    if values.get("idempotency_key") is None or dialect not in ("postgresql", "sqlite"):
        order = Order(**values)
        db.session.add(order)
        db.session.flush()
        return order.id
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return db.session.execute(
        insert(Order).values(**values).on_conflict_do_nothing().returning(Order.id)
    ).scalar()


def set_source(order: Order, source_kind: str, source_id: int, author_id: int | None) -> bool:
    """Record where the order came from (a post or chat message and its author); first one wins.

    Called by attribution. Returns False when a source was already set.
    """
    if source_kind not in ("post", "message"):
        raise field_error("source_kind", "Use post or message.")
    moved = db.session.execute(
        update(Order).where(Order.id == order.id, Order.source_kind.is_(None))
        .values(source_kind=source_kind, source_id=source_id, source_author_id=author_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        return False
    db.session.refresh(order)
    record_event(order, "source_set", source_kind=source_kind, source_id=source_id, author_id=author_id)
    return True


def _not_expired():
    return (Order.expires_at.is_(None)) | (Order.expires_at > now())


def _settle_paid(order: Order, actor, provider: str, reference: str, payment: Payment | None) -> Order:
    """pending -> paid: consume every hold of the order or refuse (some expired and were released)."""
    change_status(order, "paid", actor=actor, conditions=(_not_expired(),), provider=provider, reference=reference)
    consumed = 0
    for product_id in sorted({item.product_id for item in order.items}):  # ascending: the lock order
        consumed += db.session.execute(
            update(StockReservation)
            .where(StockReservation.order_id == order.id, StockReservation.product_id == product_id,
                   StockReservation.state == "active")
            .values(state="consumed", settled_at=now())
            .execution_options(synchronize_session=False)
        ).rowcount
    if consumed != len(order.items):
        # A buyer took units of a hold that had expired: this payment cannot stand.
        raise Conflict("The time to pay this order has run out.", code="order_expired")
    at = now()
    if payment is None:
        db.session.execute(update(Payment).where(Payment.order_id == order.id, Payment.status == "awaiting")
                           .values(status="void", updated_at=at).execution_options(synchronize_session=False))
        payment = Payment(order_id=order.id, provider=provider, amount_cents=order.total_cents,
                          currency=order.currency, created_at=at)
        db.session.add(payment)
    payment.status, payment.reference, payment.updated_at = "succeeded", reference, at
    db.session.execute(update(Order).where(Order.id == order.id).values(
        payment_provider=provider, expires_at=None).execution_options(synchronize_session=False))
    db.session.flush()
    db.session.refresh(order)
    return order


def pay(actor, order: Order, provider_name) -> Order:
    """The buyer pays with ``provider_name``.

    ``sandbox`` pays at once (-> paid). ``offline`` records that the buyer will pay
    outside Plaza: the order stays pending, its holds are extended to the
    offline window, and the merchant marks it paid. Raises Forbidden (not the
    buyer), ValidationFailed (unknown/unavailable provider), Conflict
    (already_paid, order_expired, invalid_status).
    """
    if actor.id != order.buyer_id:
        raise Forbidden("Only the buyer can pay this order.")
    provider = payments.provider_named(provider_name)
    if order.status != "pending":
        if order.status in PAID_STATUSES:
            raise Conflict("This order is already paid.", code="already_paid")
        if _expired_by_deadline(order):
            raise Conflict("The time to pay this order has run out.", code="order_expired")
        raise Conflict(f"This order is {order.status}.", code="invalid_status", fields={"status": [order.status]})
    if order.expires_at is not None and order.expires_at <= now():
        raise Conflict("The time to pay this order has run out.", code="order_expired")
    charge = provider.charge(order)
    if charge.status == "succeeded":
        return _settle_paid(order, actor, provider.name, charge.reference, None)
    return _await_offline(actor, order, provider.name, charge.reference)


def _await_offline(actor, order: Order, provider: str, reference: str) -> Order:
    existing = db.session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status == "awaiting")
    )
    if existing is not None and existing.provider == provider:
        return order  # asking twice changes nothing
    at = now()
    deadline = at + timedelta(hours=int(current_app.config.get("ORDER_OFFLINE_PAYMENT_WINDOW_HOURS",
                                                              OFFLINE_WINDOW_HOURS)))
    moved = db.session.execute(
        update(Order).where(Order.id == order.id, Order.status == "pending", Order.expires_at > at)
        .values(expires_at=deadline, payment_provider=provider, updated_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    extended = 0
    for product_id in sorted({item.product_id for item in order.items}):  # ascending: the lock order
        extended += db.session.execute(
            update(StockReservation)
            .where(StockReservation.order_id == order.id, StockReservation.product_id == product_id,
                   StockReservation.state == "active", StockReservation.expires_at > at)
            .values(expires_at=deadline)
            .execution_options(synchronize_session=False)
        ).rowcount
    if moved != 1 or extended != len(order.items):
        raise Conflict("The time to pay this order has run out.", code="order_expired")
    db.session.add(Payment(order_id=order.id, provider=provider, status="awaiting", amount_cents=order.total_cents,
                           currency=order.currency, reference=reference, created_at=at, updated_at=at))
    db.session.flush()
    db.session.refresh(order)
    record_event(order, "payment_started", actor=actor, provider=provider, reference=reference,
                 pay_by=deadline.isoformat())
    return order


def check_order_merchant(actor, order: Order) -> None:
    """Merchant actions: the order's merchant or an admin; others who can see it get 403."""
    if not (is_order_merchant(actor, order) or is_admin(actor)):
        raise Forbidden("Only the shop that sold this order can do that.")


def mark_paid(actor, order: Order) -> Order:
    """The merchant confirms an offline payment arrived."""
    check_order_merchant(actor, order)
    payment = db.session.scalar(select(Payment).where(Payment.order_id == order.id, Payment.status == "awaiting"))
    provider = payment.provider if payment else "offline"
    return _settle_paid(order, actor, provider, payment.reference if payment else f"OFF-{order.id}", payment)


def ship(actor, order: Order, *, tracking: str = "") -> Order:
    check_order_merchant(actor, order)
    if not isinstance(tracking, str) or len(tracking) > 80:
        raise field_error("tracking", "Keep it under 80 characters.")
    change_status(order, "shipped", actor=actor, tracking=tracking.strip())
    return order


def complete(actor, order: Order) -> Order:
    """The buyer confirms delivery (or the merchant closes it)."""
    if actor.id != order.buyer_id:
        check_order_merchant(actor, order)
    change_status(order, "completed", actor=actor)
    return order


def cancel(actor, order: Order, *, reason: str = "") -> Order:
    """Cancel an unpaid order (buyer, its merchant or an admin); its holds go back on the shelf."""
    if actor.id != order.buyer_id:
        check_order_merchant(actor, order)
    change_status(order, "cancelled", actor=actor, reason=(reason or "")[:200])
    _after_release(order)
    return order


def expire_order(order: Order) -> bool:
    """pending -> cancelled (event ``expired``) once past its deadline; False if it moved meanwhile.

    No savepoint needed: ``change_status`` refuses before writing anything.
    """
    try:
        change_status(order, "cancelled", event_type="expired", conditions=(Order.expires_at <= now(),))
    except Conflict:
        db.session.refresh(order)
        return False
    _after_release(order)
    return True


def _after_release(order: Order) -> None:
    db.session.execute(update(Payment).where(Payment.order_id == order.id, Payment.status == "awaiting")
                       .values(status="void", updated_at=now()).execution_options(synchronize_session=False))
    touched = _release_order_holds(order)
    db.session.execute(update(Order).where(Order.id == order.id).values(expires_at=None)
                       .execution_options(synchronize_session=False))
    db.session.refresh(order)
    _announce_stock(touched)


def refund(actor, order: Order, *, reason: str = "") -> Order:
    """paid/shipped/completed -> refunded: the provider gives the money back and stock returns.

    Its merchant or an admin only. Commission is reversed by attribution's
    listener on the ``refunded`` event, in this same transaction.
    """
    check_order_merchant(actor, order)
    if order.status not in TRANSITIONS["refunded"]:
        raise Conflict(f"This order is {order.status}; only paid orders can be refunded.",
                       code="invalid_status", fields={"status": [order.status]})
    payment = db.session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded").order_by(Payment.id.desc())
    )
    # The state moves first (one conditional UPDATE), so two refunds can never both
    # pay out; if the provider then refuses, its error rolls the whole change back.
    change_status(order, "refunded", actor=actor, reason=(reason or "")[:200], amount_cents=order.total_cents)
    refund_reference = payments.for_refund(order.payment_provider).refund(order, payment)
    touched = _release_order_holds(order, states=("consumed",), to_state="released")
    if payment is not None:
        payment.status, payment.refund_reference, payment.updated_at = "refunded", refund_reference, now()
    db.session.flush()
    _announce_stock(touched)
    return order


@jobs.job("shop.expire_orders")
def expire_due_orders(limit: int = 500) -> int:
    """Cancel unpaid orders past their deadline and put their holds back. Idempotent.

    Returns how many orders it expired. Nothing depends on it having run:
    readers and buyers already ignore expired holds. Each order is committed on
    its own: one transaction never goes back from product locks to an order lock.
    """
    due = db.session.scalars(
        select(Order.id).where(Order.status == "pending", Order.expires_at <= now())
        .order_by(Order.id).limit(limit)
    ).all()
    db.session.commit()
    expired = 0
    for order_id in due:
        order = db.session.get(Order, order_id)
        if order is not None and expire_order(order):
            expired += 1
        db.session.commit()
    return expired


def sold_units(product_id: int) -> int:
    """Units of ``product_id`` in orders that are paid, shipped or completed."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(OrderItem.quantity), 0))
        .join(Order, Order.id == OrderItem.order_id)
        .where(OrderItem.product_id == product_id, Order.status.in_(PAID_STATUSES))
    ) or 0)


def held_units(product_id: int) -> int:
    """Units of ``product_id`` in active holds (expired or not)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(StockReservation.quantity), 0))
        .where(StockReservation.product_id == product_id, StockReservation.state == "active")
    ) or 0)


def order_events(order: Order) -> list[OrderEvent]:
    return list(db.session.scalars(
        select(OrderEvent).options(joinedload(OrderEvent.actor))
        .where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    ))


def order_payment(order: Order) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id.desc()))


def next_steps(viewer, order: Order) -> list[str]:
    """Which actions ``viewer`` may take on ``order`` now (for buttons)."""
    steps = []
    buyer = viewer.id == order.buyer_id
    seller = is_order_merchant(viewer, order) or is_admin(viewer)
    live = order.expires_at is None or order.expires_at > now()
    if order.status == "pending" and live:
        if buyer:
            steps.append("pay")
        if seller:
            steps.append("mark_paid")
        if buyer or seller:
            steps.append("cancel")
    if order.status == "paid" and seller:
        steps.append("ship")
    if order.status == "shipped" and (buyer or seller):
        steps.append("complete")
    if order.status in PAID_STATUSES and seller:
        steps.append("refund")
    return steps


# --- the product card widget and its live room ---------------------------------------


@dataclass(frozen=True)
class Card:
    product: Product
    stock: int


def load_cards(ids: list[int]) -> dict[int, Card]:
    """One query (plus one for stock) for every product card on a page; unavailable ones are left out."""
    products = db.session.scalars(
        select(Product).options(joinedload(Product.merchant))
        .where(Product.id.in_(ids), Product.active.is_(True), Product.archived_at.is_(None))
    ).all()
    stock = available_stock(p.id for p in products)
    return {p.id: Card(p, stock.get(p.id, 0)) for p in products}


def image_url(product: Product) -> str | None:
    if not product.image_name:
        return None
    return url_for("shop_embed.image", name=product.image_name)


def product_url(product: Product) -> str:
    return url_for("shop_embed.product", product_id=product.id)


def render_card(card: Card, context: embeds.EmbedContext, href: str) -> Markup:
    # Autoescaped template output: trusted markup (user text inside it is escaped).
    return Markup(render_template(  # noqa: S704
        "shop_embed/_card.html", product=card.product, stock=card.stock, label=stock_label(card.stock),
        href=href, room=offer_room(card.product.id), image=image_url(card.product), context=context,
        low_stock=LOW_STOCK,
    ))


embeds.register(embeds.WidgetKind(
    kind="product",
    load=load_cards,
    render=render_card,
    url=lambda card: product_url(card.product),
))


# Who may watch ``offer:<kind>:<id>`` rooms. Group-buys and snap-ups add their kinds
# with ``offer_watch_rule``; the one "offer" room rule dispatches to them.
OFFER_WATCH_RULES: dict[str, Callable[[object, int], bool]] = {}


def offer_watch_rule(kind: str):
    def register(func):
        OFFER_WATCH_RULES[kind] = func
        return func

    return register


@room_rule("offer")
def may_watch_offer(user, rest: str) -> bool:
    kind, _, ident = rest.partition(":")
    rule = OFFER_WATCH_RULES.get(kind)
    return bool(rule) and ident.isdigit() and len(ident) <= 12 and rule(user, int(ident))


@offer_watch_rule("product")
def may_watch_product(user, product_id: int) -> bool:
    try:
        get_product(product_id, viewer=user)
    except NotFound:
        return False
    return True


def when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


__all__ = [
    "on_order_event", "place_order", "pay", "mark_paid", "ship", "complete", "cancel", "refund",
    "change_status", "record_event", "set_source", "available_stock", "create_product", "update_product",
]
_ = User  # typing reference for readers: buyers and actors are accounts.models.User
