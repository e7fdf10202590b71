"""Orders: placing (stock holds, idempotency), the state machine, payment, expiry."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import joinedload, selectinload

from ... import ratelimit, signals
from ...clock import now
from ...errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ...extensions import db
from ...pagination import decode, encode
from .. import payments
from ..models import Order, OrderEvent, OrderItem, Payment, StockReservation
from .carts import normalise_lines, quote
from .common import (
    ADDRESS_FIELDS,
    ADDRESS_REQUIRED,
    IDEMPOTENCY_KEY_RE,
    MAX_HELD_UNITS,
    MAX_PENDING_ORDERS,
    MAX_PRICE_CENTS,
    OFFLINE_WINDOW_HOURS,
    ORDER_LIMIT,
    PAID_STATUSES,
    is_admin,
    is_merchant,
)
from .merchants import merchant_of, require_merchant, shipping_for
from .stock import (
    _announce_stock,
    _release_expired_holds,
    _release_order_holds,
    _take_stock,
    available_stock,
    lock_products,
)

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
    rows = list(
        db.session.scalars(
            query.options(
                selectinload(Order.items), joinedload(Order.merchant), joinedload(Order.buyer)
            )
            .order_by(Order.id.desc())
            .limit(limit + 1)
        ).unique()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode([rows[-1].id]) if more else None)


def orders_of_buyer(user, *, cursor: str | None = None, limit: int = 20) -> Page:
    return _page(select(Order).where(Order.buyer_id == user.id), cursor, limit)


def orders_of_merchant(
    user, *, status: str | None = None, cursor: str | None = None, limit: int = 20
) -> Page:
    merchant = require_merchant(user)
    query = select(Order).where(Order.merchant_id == merchant.id)
    if status:
        query = query.where(Order.status == status)
    return _page(query, cursor, limit)


# --- orders: the state machine -----------------------------------------------------

# to_status -> statuses it may come from. "held" orders move only through
# release_held / void_held, which name their own starting status.
TRANSITIONS = {
    "pending": (),
    "paid": ("pending",),
    "shipped": ("paid",),
    "completed": ("shipped",),
    "cancelled": ("pending",),
    "refunded": PAID_STATUSES,
}
STAMPS = {
    "paid": "paid_at",
    "shipped": "shipped_at",
    "completed": "completed_at",
    "cancelled": "cancelled_at",
    "refunded": "refunded_at",
}


def record_event(
    order: Order,
    event_type: str,
    *,
    actor=None,
    from_status: str | None = None,
    to_status: str | None = None,
    **params,
) -> OrderEvent:
    """Append an event to ``order``'s history and send ``signals.order_changed``. The only writer of OrderEvent."""
    event = OrderEvent(
        order_id=order.id,
        type=event_type,
        from_status=from_status,
        to_status=to_status,
        actor_id=getattr(actor, "id", None),
        params=params,
        created_at=now(),
    )
    db.session.add(event)
    db.session.flush()
    signals.order_changed.send(order, event=event)  # a receiver's ServiceError refuses it
    return event


def change_status(
    order: Order,
    to_status: str,
    *,
    actor=None,
    event_type: str | None = None,
    conditions=(),
    from_statuses: tuple[str, ...] | None = None,
    **params,
) -> OrderEvent:
    """Move ``order`` to ``to_status`` if it is in an allowed state: one conditional UPDATE.

    ``from_statuses`` replaces TRANSITIONS' starting states (release_held and
    void_held use it; nothing else moves a held order). Extra SQL ``conditions``
    narrow it further (e.g. "not expired"). Raises Conflict (``already_paid`` /
    ``order_held`` / ``invalid_status``) and changes nothing when the order is not
    where the transition starts. Records the OrderEvent (type ``event_type`` or
    the status name) and runs the listeners.
    """
    allowed = from_statuses if from_statuses is not None else TRANSITIONS[to_status]
    if db.session.get_bind().dialect.name != "sqlite":
        # Row lock so the recorded from_status is exact; SQLite serialises writers anyway.
        db.session.execute(
            select(Order.id).where(Order.id == order.id).with_for_update(key_share=True)
        )
    db.session.refresh(order, ["status"])
    from_status = order.status
    if to_status in NEEDS_ADDRESS and order.status in allowed:
        db.session.refresh(order, ["shipping_address"])
        check_ships_somewhere(order)
    at = now()
    values = {"status": to_status, "updated_at": at}
    if to_status in STAMPS:
        values[STAMPS[to_status]] = at
    moved = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(allowed), *conditions)
        .values(values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        if from_status == "held":
            raise Conflict(
                "This order is held until its group-buy team is complete.", code="order_held"
            )
        if to_status == "paid" and from_status in PAID_STATUSES:
            raise Conflict("This order is already paid.", code="already_paid")
        if to_status == "paid" and (from_status == "pending" or _expired_by_deadline(order)):
            raise Conflict("The time to pay this order has run out.", code="order_expired")
        raise Conflict(
            f"This order is {from_status}; it cannot become {to_status}.",
            code="invalid_status",
            fields={"status": [from_status]},
        )
    db.session.refresh(order)
    return record_event(
        order,
        event_type or to_status,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        **params,
    )


# Every product the shop sells is a physical good that ships: an order is paid and
# shipped only once it says where it goes.
NEEDS_ADDRESS = ("paid", "shipped")


def check_ships_somewhere(order: Order) -> None:
    """Conflict ``address_required`` when ``order`` has no shipping address yet.

    Checked by ``pay`` before any money moves and by ``change_status`` on every
    move to paid or shipped (mark paid, ship, a prepaid team order released), so the page, the API,
    snap-ups and group-buys all obey the one rule. The buyer adds the address with
    ``set_shipping_address`` (PUT /api/v1/orders/{id}/shipping-address).
    """
    if not order.shipping_address:
        raise Conflict(
            "Add a shipping address to this order first.",
            code="address_required",
            fields={"shipping_address": ["Required before the order is paid or shipped."]},
        )


def _expired_by_deadline(order: Order) -> bool:
    return (
        order.status == "cancelled"
        and db.session.scalar(
            select(OrderEvent.type)
            .where(OrderEvent.order_id == order.id)
            .order_by(OrderEvent.id.desc())
            .limit(1)
        )
        == "expired"
    )


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


def _request_hash(
    kind: str, lines: list[tuple[int, int]], address: dict, prices: dict | None = None
) -> str:
    body = {"kind": kind, "items": lines, "address": address}
    if prices:
        body["prices"] = sorted(prices.items())
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(buyer, key: str, request_hash: str) -> Order | None:
    existing = db.session.scalar(
        select(Order).where(Order.buyer_id == buyer.id, Order.idempotency_key == key)
    )
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise ValidationFailed(
            "This Idempotency-Key was already used for a different order.",
            code="idempotency_key_reused",
            fields={"Idempotency-Key": ["Already used with a different body."]},
        )
    return existing


def payment_window() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("ORDER_PAYMENT_WINDOW_MINUTES", 30)))


def place_order(
    buyer,
    items,
    *,
    shipping_address=None,
    idempotency_key: str | None = None,
    kind: str = "standard",
    unit_prices: dict[int, int] | None = None,
    pay_within: timedelta | None = None,
    held_until: datetime | None = None,
) -> tuple[Order, bool]:
    """Reserve stock and create a pending order; returns (order, replayed).

    ``items`` is ``[(product_id, quantity), ...]`` of one merchant. Promotions
    (other ``kind``s) may set ``unit_prices`` ({product_id: cents}, instead of the
    list price), ``pay_within`` (the payment window instead of
    ORDER_PAYMENT_WINDOW_MINUTES) or ``held_until`` (the order starts ``held``,
    its stock reserved until then; see release_held / void_held). A promotion's
    window is its offer's own: paying offline never extends the holds past it
    (``hold_limit_at``). With an
    ``idempotency_key`` the key is claimed by the order row itself (unique per
    buyer) in the same transaction: a replay with the same body returns the first
    order (replayed=True) and writes nothing; the same key with another body is
    refused (422 idempotency_key_reused).

    Raises ValidationFailed (bad lines, unknown product, mixed merchants, bad
    address), Forbidden (suspended), RateLimited, Conflict(too_many_pending_orders),
    Conflict(too_many_held_units) or Conflict(insufficient_stock). On a refusal the caller rolls back and
    nothing is written.
    """
    if getattr(buyer, "is_suspended", False):
        raise Forbidden("Your account is suspended.", code="suspended")
    raw_index: dict[int, int] = {}
    if isinstance(items, list | tuple):
        for n, line in enumerate(items):
            if isinstance(line, tuple | list) and len(line) == 2 and isinstance(line[0], int):
                raw_index.setdefault(line[0], n)
    lines = normalise_lines(items)
    address = _address(shipping_address)
    if idempotency_key is not None and not IDEMPOTENCY_KEY_RE.match(idempotency_key):
        raise field_error("Idempotency-Key", "Use 1-128 visible ASCII characters.")
    _check_unit_prices(unit_prices, lines)
    at = now()
    if held_until is not None and held_until <= at:
        raise field_error("held_until", "The hold must end in the future.")
    request_hash = _request_hash(kind, lines, address, unit_prices)
    if idempotency_key is not None:
        first = _replay(buyer, idempotency_key, request_hash)
        if first is not None:
            return first, True
    check_can_order(buyer)
    priced = quote(lines, raw_index=raw_index)
    prices = {line.product.id: line.product.price_cents for line in priced.lines}
    prices.update(unit_prices or {})
    subtotal = sum(prices[line.product.id] * line.quantity for line in priced.lines)
    shipping = shipping_for(priced.merchant, subtotal)
    values = dict(
        kind=kind,
        buyer_id=buyer.id,
        merchant_id=priced.merchant.id,
        status="held" if held_until is not None else "pending",
        currency=priced.currency,
        subtotal_cents=subtotal,
        shipping_cents=shipping,
        total_cents=subtotal + shipping,
        shipping_address=address,
        idempotency_key=idempotency_key,
        request_hash=request_hash if idempotency_key else None,
        expires_at=held_until or at + (pay_within or payment_window()),
        hold_limit_at=(
            None if pay_within is None and held_until is None else held_until or at + pay_within
        ),
        created_at=at,
        updated_at=at,
    )
    # Claim the key before touching stock. ON CONFLICT DO NOTHING rather than a
    # savepoint: a concurrent twin waits on the unique index (PostgreSQL) and then
    # inserts nothing, so it finds the first order; no error, nothing to undo.
    order_id = _claim_order_row(values)
    if order_id is None:
        first = _replay(buyer, idempotency_key, request_hash)
        if (
            first is None
        ):  # pragma: no cover - the conflicting row vanished (its transaction rolled back)
            raise Conflict("Please try again.", code="retry")
        return first, True
    order = db.session.get(Order, order_id)
    _check_held_units(buyer, order, priced.lines, raw_index)
    # Lines and holds first: the product rows are locked from the moment their
    # stock is taken until commit, so take it as late as possible.
    for line in priced.lines:
        db.session.add(
            OrderItem(
                order_id=order.id,
                product_id=line.product.id,
                name=line.product.name,
                unit_price_cents=prices[line.product.id],
                quantity=line.quantity,
                line_total_cents=prices[line.product.id] * line.quantity,
            )
        )
        db.session.add(
            StockReservation(
                order_id=order.id,
                product_id=line.product.id,
                quantity=line.quantity,
                expires_at=order.expires_at,
                created_at=at,
            )
        )
    db.session.flush()
    shortages: dict[str, list[str]] = {}
    for line in priced.lines:  # ascending product id: the lock order
        product_id = line.product.id
        # Expired holds are released only when the shelf alone is short: the hot path is one statement.
        if not _take_stock(product_id, line.quantity) and (
            _release_expired_holds(product_id) == 0 or not _take_stock(product_id, line.quantity)
        ):
            left = available_stock([product_id]).get(product_id, 0)
            shortages[f"items.{raw_index.get(product_id, 0)}.quantity"] = [
                f"Only {left} left of {line.product.name}."
                if left > 0
                else f"{line.product.name} is sold out."
            ]
    if shortages:
        raise Conflict(
            "Not enough stock for this order.", code="insufficient_stock", fields=shortages
        )
    db.session.refresh(order)
    record_event(
        order,
        "placed",
        actor=buyer,
        to_status=order.status,
        items=[[pid, qty] for pid, qty in lines],
        total_cents=order.total_cents,
    )
    _announce_stock(pid for pid, _ in lines)
    return order, False


# Any constant key of our own: PostgreSQL advisory locks share one space per database.
HELD_UNITS_LOCK = 0x5E1D


def held_units_limit() -> int:
    return int(current_app.config.get("SHOP_MAX_HELD_UNITS", MAX_HELD_UNITS))


def _check_held_units(buyer, order: Order, lines, raw_index: dict[int, int]) -> None:
    """Refuse (Conflict ``too_many_held_units``) when this order would take the buyer's
    unpaid holds of a product past SHOP_MAX_HELD_UNITS.

    A hard limit under concurrency: the buyer's orders take one transaction-scoped
    lock per buyer on PostgreSQL before counting, so two of their orders never count
    at the same time (it is released at commit, when the counted holds are visible).
    SQLite runs one writer at a time, and this order's row is already written.
    Counts holds of held and pending orders that have not expired.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :buyer)"),
            {"space": HELD_UNITS_LOCK, "buyer": buyer.id},
        )
    limit = held_units_limit()
    ids = [line.product.id for line in lines]
    held = dict(
        db.session.execute(
            select(StockReservation.product_id, func.sum(StockReservation.quantity))
            .join(Order, Order.id == StockReservation.order_id)
            .where(
                Order.buyer_id == buyer.id,
                Order.id != order.id,
                StockReservation.product_id.in_(ids),
                StockReservation.state == "active",
                StockReservation.expires_at > now(),
            )
            .group_by(StockReservation.product_id)
        ).all()
    )
    over = {}
    for line in lines:
        already = int(held.get(line.product.id) or 0)
        if already + line.quantity > limit:
            left = max(limit - already, 0)
            over[f"items.{raw_index.get(line.product.id, 0)}.quantity"] = [
                f"You can hold at most {limit} unpaid of {line.product.name}"
                + (f"; {left} more." if left else "; pay for your other orders first.")
            ]
    if over:
        raise Conflict(
            "You are holding too many unpaid units; pay or cancel an order first.",
            code="too_many_held_units",
            fields=over,
        )


def _check_unit_prices(unit_prices, lines: list[tuple[int, int]]) -> None:
    if unit_prices is None:
        return
    ordered = {product_id for product_id, _ in lines}
    if not isinstance(unit_prices, dict) or not set(unit_prices) <= ordered:
        raise field_error("unit_prices", "Give prices only for products in the order.")
    for price in unit_prices.values():
        if isinstance(price, bool) or not isinstance(price, int):
            raise field_error("unit_prices", "Prices are whole cents.")
        if not 0 <= price <= MAX_PRICE_CENTS:
            raise field_error("unit_prices", "Use a price from 0 to 100,000,000 cents.")


def check_can_order(buyer) -> None:
    """Limits against hoarding stock with unpaid orders (a soft limit: counted, not locked).

    At most ``SHOP_MAX_PENDING_ORDERS`` unpaid live orders per buyer, and
    ``SHOP_ORDER_LIMIT`` new orders per time window (off with RATELIMIT_ENABLED).
    """
    pending = db.session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.buyer_id == buyer.id, Order.status == "pending", Order.expires_at > now())
    )
    if pending >= int(current_app.config.get("SHOP_MAX_PENDING_ORDERS", MAX_PENDING_ORDERS)):
        raise Conflict(
            "You have too many unpaid orders; pay or cancel one first.",
            code="too_many_pending_orders",
        )
    ratelimit.consume(
        current_app.config.get("SHOP_ORDER_LIMIT", ORDER_LIMIT),
        "shop-order",
        buyer.id,
        message="You are placing orders too fast; wait a moment.",
    )


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
        update(Order)
        .where(Order.id == order.id, Order.source_kind.is_(None))
        .values(source_kind=source_kind, source_id=source_id, source_author_id=author_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        return False
    db.session.refresh(order)
    record_event(
        order, "source_set", source_kind=source_kind, source_id=source_id, author_id=author_id
    )
    return True


def _not_expired():
    return (Order.expires_at.is_(None)) | (Order.expires_at > now())


def _settle_paid(
    order: Order, actor, provider: str, reference: str, payment: Payment | None
) -> Order:
    """pending -> paid: consume every hold of the order or refuse (some expired and were released)."""
    change_status(
        order,
        "paid",
        actor=actor,
        conditions=(_not_expired(),),
        provider=provider,
        reference=reference,
    )
    consumed = 0
    for product_id in sorted(
        {item.product_id for item in order.items}
    ):  # ascending: the lock order
        consumed += db.session.execute(
            update(StockReservation)
            .where(
                StockReservation.order_id == order.id,
                StockReservation.product_id == product_id,
                StockReservation.state == "active",
            )
            .values(state="consumed", settled_at=now())
            .execution_options(synchronize_session=False)
        ).rowcount
    if consumed != len(order.items):
        # A buyer took units of a hold that had expired: this payment cannot stand.
        raise Conflict("The time to pay this order has run out.", code="order_expired")
    at = now()
    if payment is None:
        db.session.execute(
            update(Payment)
            .where(Payment.order_id == order.id, Payment.status == "awaiting")
            .values(status="void", updated_at=at)
            .execution_options(synchronize_session=False)
        )
        payment = Payment(
            order_id=order.id,
            provider=provider,
            amount_cents=order.total_cents,
            currency=order.currency,
            created_at=at,
        )
        db.session.add(payment)
    payment.status, payment.reference, payment.updated_at = "succeeded", reference, at
    db.session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(payment_provider=provider, expires_at=None)
        .execution_options(synchronize_session=False)
    )
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
    provider = payments.provider_named(provider_name, merchant=order.merchant)
    if order.status == "held":
        _lock_order(order)
        if order.status == "held":
            return _prepay_held(actor, order, provider)
    if order.status != "pending":
        if order.status in PAID_STATUSES:
            raise Conflict("This order is already paid.", code="already_paid")
        if _expired_by_deadline(order):
            raise Conflict("The time to pay this order has run out.", code="order_expired")
        raise Conflict(
            f"This order is {order.status}.",
            code="invalid_status",
            fields={"status": [order.status]},
        )
    if order.expires_at is not None and order.expires_at <= now():
        raise Conflict("The time to pay this order has run out.", code="order_expired")
    check_ships_somewhere(order)
    charge = provider.charge(order)
    if charge.status == "succeeded":
        return _settle_paid(order, actor, provider.name, charge.reference, None)
    return _await_offline(actor, order, provider.name, charge.reference)


def _lock_order(order: Order) -> None:
    """Row-lock ``order`` and re-read its status (SQLite serialises writers anyway)."""
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(
            select(Order.id).where(Order.id == order.id).with_for_update(key_share=True)
        )
    db.session.refresh(order)


def _succeeded_payment(order: Order) -> Payment | None:
    return db.session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.status == "succeeded")
        .order_by(Payment.id.desc())
    )


def _prepay_held(actor, order: Order, provider) -> Order:
    """Pay a held order in advance: it stays held; release_held makes it paid, void_held refunds it.

    Only providers that collect at once can do this (an offline payment waits for
    the merchant, who cannot confirm a held order). The caller has locked the order.
    """
    if _succeeded_payment(order) is not None:
        raise Conflict("This order is already paid.", code="already_paid")
    if order.expires_at is not None and order.expires_at <= now():
        raise Conflict("This order's hold has ended.", code="order_expired")
    if provider.name == "offline":
        raise Conflict(
            "A held order can be paid in advance by card only; otherwise pay once the "
            "team is complete.",
            code="order_held",
        )
    check_ships_somewhere(order)
    charge = provider.charge(order)
    if charge.status != "succeeded":  # pragma: no cover - every instant provider succeeds here
        raise Conflict("The payment did not go through.", code="payment_failed")
    at = now()
    db.session.add(
        Payment(
            order_id=order.id,
            provider=provider.name,
            status="succeeded",
            amount_cents=order.total_cents,
            currency=order.currency,
            reference=charge.reference,
            created_at=at,
            updated_at=at,
        )
    )
    db.session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(payment_provider=provider.name, updated_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    db.session.refresh(order)
    record_event(order, "prepaid", actor=actor, provider=provider.name, reference=charge.reference)
    return order


def release_held(order: Order, *, actor=None, **params) -> Order:
    """held -> paid when it was paid in advance (its holds are consumed), else held -> pending
    with a fresh payment window (its holds extended to it).

    For the feature that placed it held (a group-buy team filled). Raises
    Conflict(order_held/invalid_status) when the order is no longer held. Locks:
    the order, then its products in ascending id.
    """
    at = now()
    if _succeeded_payment(order) is not None:
        change_status(order, "paid", actor=actor, from_statuses=("held",), released=True, **params)
        hold_values = {"state": "consumed", "settled_at": at}
        order_values = {"expires_at": None}
    else:
        change_status(
            order,
            "pending",
            actor=actor,
            event_type="released",
            from_statuses=("held",),
            **params,
        )
        deadline = at + payment_window()
        hold_values = {"expires_at": deadline}
        order_values = {"expires_at": deadline, "hold_limit_at": deadline}
        lock_products(item.product_id for item in order.items)
    db.session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(**order_values)
        .execution_options(synchronize_session=False)
    )
    moved = 0
    for product_id in sorted({item.product_id for item in order.items}):
        moved += db.session.execute(
            update(StockReservation)
            .where(
                StockReservation.order_id == order.id,
                StockReservation.product_id == product_id,
                StockReservation.state == "active",
            )
            .values(**hold_values)
            .execution_options(synchronize_session=False)
        ).rowcount
    if moved != len({item.product_id for item in order.items}):
        # A hold was released under it (only possible after its deadline): refuse.
        raise Conflict("This order's hold has ended.", code="order_expired")
    db.session.flush()
    db.session.refresh(order)
    return order


def void_held(order: Order, *, actor=None, reason: str = "") -> Order:
    """held -> refunded when it was paid in advance (the provider pays it back), else
    held -> cancelled; either way its holds go back on the shelf.

    For the feature that placed it held (a group-buy team failed). Raises
    Conflict(order_held/invalid_status) when the order is no longer held.
    """
    payment = _succeeded_payment(order)
    if payment is not None:
        change_status(
            order,
            "refunded",
            actor=actor,
            from_statuses=("held",),
            reason=(reason or "")[:200],
            amount_cents=order.total_cents,
        )
        reference = payments.for_refund(order.payment_provider).refund(order, payment)
        payment.status, payment.refund_reference, payment.updated_at = (
            "refunded",
            reference,
            now(),
        )
    else:
        change_status(
            order, "cancelled", actor=actor, from_statuses=("held",), reason=(reason or "")[:200]
        )
    _after_release(order)
    return order


def _await_offline(actor, order: Order, provider: str, reference: str) -> Order:
    existing = db.session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status == "awaiting")
    )
    if existing is not None and existing.provider == provider:
        return order  # asking twice changes nothing
    at = now()
    deadline = at + timedelta(
        hours=int(
            current_app.config.get("ORDER_OFFLINE_PAYMENT_WINDOW_HOURS", OFFLINE_WINDOW_HOURS)
        )
    )
    if order.hold_limit_at is not None:  # an offer's own window: never past it
        deadline = min(deadline, order.hold_limit_at)
    moved = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == "pending", Order.expires_at > at)
        .values(expires_at=deadline, payment_provider=provider, updated_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    extended = 0
    for product_id in sorted(
        {item.product_id for item in order.items}
    ):  # ascending: the lock order
        extended += db.session.execute(
            update(StockReservation)
            .where(
                StockReservation.order_id == order.id,
                StockReservation.product_id == product_id,
                StockReservation.state == "active",
                StockReservation.expires_at > at,
            )
            .values(expires_at=deadline)
            .execution_options(synchronize_session=False)
        ).rowcount
    if moved != 1 or extended != len(order.items):
        raise Conflict("The time to pay this order has run out.", code="order_expired")
    db.session.add(
        Payment(
            order_id=order.id,
            provider=provider,
            status="awaiting",
            amount_cents=order.total_cents,
            currency=order.currency,
            reference=reference,
            created_at=at,
            updated_at=at,
        )
    )
    db.session.flush()
    db.session.refresh(order)
    record_event(
        order,
        "payment_started",
        actor=actor,
        provider=provider,
        reference=reference,
        pay_by=deadline.isoformat(),
    )
    return order


def check_order_merchant(actor, order: Order) -> None:
    """Merchant actions: the order's merchant or an admin; others who can see it get 403."""
    if not (is_order_merchant(actor, order) or is_admin(actor)):
        raise Forbidden("Only the shop that sold this order can do that.")


def mark_paid(actor, order: Order) -> Order:
    """The merchant confirms an offline payment arrived."""
    check_order_merchant(actor, order)
    payment = db.session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status == "awaiting")
    )
    provider = payment.provider if payment else "offline"
    return _settle_paid(
        order, actor, provider, payment.reference if payment else f"OFF-{order.id}", payment
    )


def ship(actor, order: Order, *, tracking: str = "") -> Order:
    check_order_merchant(actor, order)
    if not isinstance(tracking, str) or len(tracking) > 80:
        raise field_error("tracking", "Keep it under 80 characters.")
    change_status(order, "shipped", actor=actor, tracking=tracking.strip())
    return order


def check_order_buyer(actor, order: Order) -> None:
    if actor.id != order.buyer_id:
        raise Forbidden("Only the buyer can change where an order goes.")


# Until it ships, the buyer can still say (or correct) where it goes.
ADDRESS_EDITABLE = ("pending", "held", "paid")


def set_shipping_address(actor, order: Order, raw) -> Order:
    """The buyer gives or corrects the address of an order that has not shipped.

    Orders made from a snap-up or group-buy widget start without one. One
    conditional UPDATE on the status, so an order shipped meanwhile is refused
    (Conflict ``already_shipped``). Raises Forbidden for anyone but the buyer and
    ValidationFailed for an incomplete address; nothing is written then.
    """
    check_order_buyer(actor, order)
    address = _address(raw)
    if not address:
        raise field_error("shipping_address", "Give the address.")
    moved = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(ADDRESS_EDITABLE))
        .values(shipping_address=address, updated_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.refresh(order, ["status"])
        raise Conflict(
            f"This order is {order.status}; its address can no longer change.",
            code="already_shipped"
            if order.status in ("shipped", "completed")
            else "invalid_status",
        )
    db.session.refresh(order)
    record_event(order, "address_set", actor=actor)
    return order


def saved_address(user) -> dict:
    """The address the buyer used last, to offer again (empty when they never gave one)."""
    for address in db.session.scalars(
        select(Order.shipping_address)
        .where(Order.buyer_id == user.id)
        .order_by(Order.id.desc())
        .limit(10)
    ):
        if address:
            return dict(address)
    return {}


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
        change_status(
            order, "cancelled", event_type="expired", conditions=(Order.expires_at <= now(),)
        )
    except Conflict:
        db.session.refresh(order)
        return False
    _after_release(order)
    return True


def _after_release(order: Order) -> None:
    db.session.execute(
        update(Payment)
        .where(Payment.order_id == order.id, Payment.status == "awaiting")
        .values(status="void", updated_at=now())
        .execution_options(synchronize_session=False)
    )
    touched = _release_order_holds(order)
    db.session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(expires_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(order)
    _announce_stock(touched)


def refund(actor, order: Order, *, reason: str = "") -> Order:
    """paid/shipped/completed -> refunded: the provider gives the money back and stock returns.

    Its merchant or an admin only. Commission is reversed by attribution's
    listener on the ``refunded`` event, in this same transaction.
    """
    check_order_merchant(actor, order)
    if order.status not in TRANSITIONS["refunded"]:
        raise Conflict(
            f"This order is {order.status}; only paid orders can be refunded.",
            code="invalid_status",
            fields={"status": [order.status]},
        )
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.status == "succeeded")
        .order_by(Payment.id.desc())
    )
    # The state moves first (one conditional UPDATE), so two refunds can never both
    # pay out; if the provider then refuses, its error rolls the whole change back.
    change_status(
        order, "refunded", actor=actor, reason=(reason or "")[:200], amount_cents=order.total_cents
    )
    refund_reference = payments.for_refund(order.payment_provider).refund(order, payment)
    touched = _release_order_holds(order, states=("consumed",), to_state="released")
    if payment is not None:
        payment.status, payment.refund_reference, payment.updated_at = (
            "refunded",
            refund_reference,
            now(),
        )
    db.session.flush()
    _announce_stock(touched)
    return order


def expire_due_orders(limit: int = 500) -> int:
    """Cancel unpaid orders past their deadline and put their holds back. Idempotent.

    Returns how many orders it expired. Nothing depends on it having run:
    readers and buyers already ignore expired holds. Each order is committed on
    its own: one transaction never goes back from product locks to an order lock.
    """
    due = db.session.scalars(
        select(Order.id)
        .where(Order.status == "pending", Order.expires_at <= now())
        .order_by(Order.id)
        .limit(limit)
    ).all()
    db.session.commit()
    expired = 0
    for order_id in due:
        order = db.session.get(Order, order_id)
        if order is not None and expire_order(order):
            expired += 1
        db.session.commit()
    return expired


def order_events(order: Order) -> list[OrderEvent]:
    return list(
        db.session.scalars(
            select(OrderEvent)
            .options(joinedload(OrderEvent.actor))
            .where(OrderEvent.order_id == order.id)
            .order_by(OrderEvent.id)
        )
    )


def order_payment(order: Order) -> Payment | None:
    return db.session.scalar(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.id.desc())
    )


def next_steps(viewer, order: Order) -> list[str]:
    """Which actions ``viewer`` may take on ``order`` now (for buttons)."""
    steps = []
    buyer = viewer.id == order.buyer_id
    seller = is_order_merchant(viewer, order) or is_admin(viewer)
    live = order.expires_at is None or order.expires_at > now()
    # Without an address it cannot be paid: the page asks for the address first.
    payable = bool(order.shipping_address)
    if order.status == "held" and buyer and live and order.payment_provider is None and payable:
        steps.append("pay")
    if order.status == "pending" and live:
        if buyer and payable:
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
    if order.status in ADDRESS_EDITABLE and buyer and (live or order.status != "pending"):
        steps.append("address")
    return steps
