"""Orders: reading them (who may see what) and placing them (holds, idempotency, limits)."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, bindparam, func, insert, inspect, literal, select, update
from sqlalchemy.orm import InstanceState, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ... import idempotency, ratelimit, signals
from ...clock import now
from ...database import insert_ignore, oldest_first, prepared, prepared_for
from ...errors import Conflict, NotFound, field_error
from ...extensions import db
from ...pagination import Page, after_id, encode, keyset_page
from ...permissions import check_not_suspended
from ..models import Order, OrderEvent, OrderItem, Payment, StockReservation
from .carts import normalise_lines
from .common import (
    MAX_PRICE_CENTS,
    PAID_STATUSES,
    _address,
    is_admin,
    is_merchant,
)
from .fulfilment import ADDRESS_EDITABLE, is_order_merchant
from .lifecycle import new_event, payment_window, record_event, send_event
from .merchants import merchant_of, require_merchant
from .pricing import price_quote
from .stock import announce_units, reserve

# --- reading -----------------------------------------------------------------------


def can_view_order(viewer, order: Order) -> bool:
    if not viewer or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == order.buyer_id or is_admin(viewer):
        return True
    merchant = merchant_of(viewer) if is_merchant(viewer) else None
    return merchant is not None and merchant.id == order.merchant_id


# An order is read with its merchant and its lines, in the same statement: every reader
# and every action needs them (paying: the merchant's providers, the lines' holds).
WITH_MERCHANT_AND_LINES = (joinedload(Order.merchant), joinedload(Order.items))


def get_order(order_id, viewer) -> Order:
    """The order if ``viewer`` is its buyer, its merchant or an admin; 404 for everyone else.

    Reading never writes: an unpaid order past its deadline stays ``pending`` in the
    table until the sweep (``expire_due_orders``) or the next write on it cancels it;
    readers show it through ``shown_status`` / ``is_overdue`` meanwhile.
    """
    order = (
        db.session.get(Order, order_id, options=WITH_MERCHANT_AND_LINES)
        if isinstance(order_id, int)
        else None
    )
    if order is None or not can_view_order(viewer, order):
        raise NotFound("No such order.")
    return order


def find_order(order_id: int) -> Order | None:
    """The order ``order_id`` without a viewer check: for other features' rules that
    already know the order is theirs (a team member's, a snap-up purchase's)."""
    return db.session.get(Order, order_id, options=WITH_MERCHANT_AND_LINES)


@prepared
def _order_with_merchant_and_lines():
    return select(Order).options(*WITH_MERCHANT_AND_LINES).where(Order.id == bindparam("id"))


def with_merchant_and_lines(order: Order) -> Order:
    """``order`` with its columns, merchant and lines loaded: what is missing (all of it
    after a commit expired the order, the relationships after a plain ``get``) is read in one
    statement; nothing when all is there. Loaded attributes are left as they are."""
    state: InstanceState[Order] = inspect(order)
    if state.unloaded & _NEEDED:
        # Its id from the identity: reading ``order.id`` of an expired order reloads it.
        order_id = state.identity[0]
        db.session.scalars(_order_with_merchant_and_lines(), {"id": order_id}).unique().all()
    return order


_NEEDED = frozenset({"status", "merchant", "items"})


def orders_with_ids(order_ids) -> list[Order]:
    """The orders among ``order_ids`` (ids or a subquery of them), in ascending id: the
    lock order, for callers that settle several (a group-buy team's)."""
    return list(db.session.scalars(select(Order).where(Order.id.in_(order_ids)).order_by(Order.id)))


def order_by_key(buyer, key: str) -> Order | None:
    """``buyer``'s order placed with Idempotency-Key ``key`` (for replaying a request)."""
    return db.session.scalar(
        select(Order).where(Order.buyer_id == buyer.id, Order.idempotency_key == key)
    )


def order_ids_with_key(buyer_id, key) -> Select:
    """``SELECT id`` of ``buyer_id``'s order placed with Idempotency-Key ``key`` (none or
    one; either may be a bind parameter): for another feature's read that asks in its own
    statement whether a request is a replay (a snap-up's refusal after its sell-out)."""
    return select(Order.id).where(Order.buyer_id == buyer_id, Order.idempotency_key == key)


def order_statuses(among) -> Select:
    """``SELECT id, status`` of the orders among ``among`` (a subquery of order ids), for
    another feature's counts per status (a snap-up's sales)."""
    return select(Order.id, Order.status).where(Order.id.in_(among))


def order_deadlines(among=None) -> Select:
    """``SELECT id, status, expires_at`` of orders (among ``among``, a subquery of order
    ids, when given): a SQL expression another feature joins as a subquery when it shows
    its own rows with their order's state in one statement (an auction's sales)."""
    query = select(Order.id, Order.status, Order.expires_at)
    if among is not None:
        query = query.where(Order.id.in_(among))
    return query


def lock_orders(order_ids: list[int]) -> None:
    """Lock these order rows in ascending id (``FOR NO KEY UPDATE``; SQLite has one writer
    anyway): the first step of the lock order when a sweep moves several orders."""
    if order_ids and db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(
            select(Order.id)
            .where(Order.id.in_(order_ids))
            .order_by(Order.id)
            .with_for_update(key_share=True)
        )


def _page(query, cursor: str | None, limit: int) -> Page:
    after = after_id(cursor)
    if after is not None:
        query = query.where(Order.id < after)
    rows = list(
        db.session.scalars(
            query.options(
                selectinload(Order.items), joinedload(Order.merchant), joinedload(Order.buyer)
            )
            .order_by(Order.id.desc())
            .limit(limit + 1)
        ).unique()
    )
    return keyset_page(rows, limit, lambda order: encode([order.id]))


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


def order_events(order: Order) -> list[OrderEvent]:
    return oldest_first(OrderEvent.order_id, order.id, with_=OrderEvent.actor)


def order_payment(order: Order) -> Payment | None:
    """The order's latest payment. None without asking when no provider was ever named:
    every payment row is written with the order's ``payment_provider`` (paying, paying
    offline, prepaying a held order; a price cut's refund follows a payment)."""
    if order.payment_provider is None:
        return None
    return db.session.scalar(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.id.desc())
    )


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


# --- placing -----------------------------------------------------------------------


def _request_hash(
    kind: str,
    lines: list[tuple[int, int]],
    address: dict,
    prices: dict | None = None,
    choices: dict | None = None,
) -> str:
    body = {"kind": kind, "items": lines, "address": address}
    if prices:
        body["prices"] = sorted(prices.items())
    if choices:
        body["choices"] = sorted((k, v) for k, v in choices.items() if v)
    return idempotency.request_hash(body)


def _replay(buyer, key: str, request_hash: str) -> Order | None:
    return idempotency.replay(
        db.session.scalar(
            select(Order).where(Order.buyer_id == buyer.id, Order.idempotency_key == key)
        ),
        lambda first: first.request_hash == request_hash,
    )


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
    choices: dict | None = None,
) -> tuple[Order, bool]:
    """Reserve stock and create a pending order; returns (order, replayed).

    ``items`` is ``[(product_id, quantity), ...]`` of one merchant. Promotions
    (other ``kind``s) may set ``unit_prices`` ({product_id: cents}, instead of the
    list price), ``pay_within`` (the payment window instead of
    ORDER_PAYMENT_WINDOW_MINUTES) or ``held_until`` (the order starts ``held``,
    its stock reserved until then; see release_held / void_held). A promotion's
    window is its offer's own: paying offline never extends the holds past it
    (``hold_limit_at``). ``choices`` go to the price steps (``coupon_code``,
    ``use_credit_cents``, ``use_points``, an offer's ``audience``); the adjustments they
    make are stored on the order. ``signals.order_priced`` is sent with the quote before
    any stock is reserved (members claims the coupon use then, so its row is locked
    before the products, as a cancel does); the ``placed`` event announces the order
    (members spends credit then). With an
    ``idempotency_key`` the key is claimed by the order row itself (unique per
    buyer) in the same transaction: a replay with the same body returns the first
    order (replayed=True) and writes nothing; the same key with another body is
    refused (422 idempotency_key_reused).

    Raises ValidationFailed (bad lines, unknown product, mixed merchants, bad
    address), Forbidden (suspended), RateLimited, Conflict(too_many_pending_orders),
    Conflict(too_many_held_units) or Conflict(insufficient_stock). On a refusal the caller rolls back and
    nothing is written.
    """
    check_not_suspended(buyer)
    raw_index: dict[int, int] = {}
    if isinstance(items, list | tuple):
        for n, line in enumerate(items):
            if isinstance(line, tuple | list) and len(line) == 2 and isinstance(line[0], int):
                raw_index.setdefault(line[0], n)
    lines = normalise_lines(items)
    address = _address(shipping_address)
    idempotency_key = idempotency.check_key(idempotency_key)
    _check_unit_prices(unit_prices, lines)
    at = now()
    if held_until is not None and held_until <= at:
        raise field_error("held_until", "The hold must end in the future.")
    request_hash = _request_hash(kind, lines, address, unit_prices, choices)
    if idempotency_key is not None:
        first = _replay(buyer, idempotency_key, request_hash)
        if first is not None:
            return first, True
    check_can_order(buyer)
    priced = price_quote(
        buyer, lines, unit_prices=unit_prices, raw_index=raw_index, choices=choices
    )
    values = dict(
        kind=kind,
        buyer_id=buyer.id,
        merchant_id=priced.merchant.id,
        status="held" if held_until is not None else "pending",
        currency=priced.currency,
        subtotal_cents=priced.subtotal_cents,
        shipping_cents=priced.shipping_cents,
        total_cents=priced.total_cents,
        adjustments=[
            {"kind": a.kind, "label": a.label, "amount_cents": a.amount_cents, "info": a.info}
            for a in priced.adjustments
        ],
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
    order = _claim_order_row(values)
    if order is None:
        first = _replay(buyer, idempotency_key, request_hash)
        if (
            first is None
        ):  # pragma: no cover - the conflicting row vanished (its transaction rolled back)
            raise Conflict("Please try again.", code="retry")
        return first, True
    _check_held_units(buyer, order, priced.lines, raw_index)
    # What the price steps promised is claimed before any product row is locked.
    signals.order_priced.send(order, quote=priced, buyer=buyer)
    items = [
        OrderItem(
            order_id=order.id,
            product_id=line.product.id,
            name=line.product.name,
            unit_price_cents=line.unit_price_cents,
            quantity=line.quantity,
            line_total_cents=line.line_total_cents,
        )
        for line in priced.lines
    ]
    db.session.add_all(items)
    # Written with the lines and holds (one flush, before any product row is locked), and
    # announced once the stock is taken (members spends credit then: products before a
    # wallet, the lock order).
    placed = new_event(
        order,
        "placed",
        actor=buyer,
        to_status=order.status,
        items=[[pid, qty] for pid, qty in lines],
        total_cents=order.total_cents,
    )
    # Lines first, holds last: the product rows stay locked from the moment their
    # stock is taken until commit.
    left = reserve(
        order, [(line.product, line.quantity) for line in priced.lines], raw_index=raw_index
    )
    # Its lines were added as rows, not through the relationship (which would read the
    # empty collection first); flushed now, they are the order's lines as the database
    # has them, in id order. (No refresh: the row is as this function wrote it.)
    set_committed_value(order, "items", items)
    send_event(order, placed)
    # Read by the stock guard itself (the rows are locked): a product the guard took
    # units of is on sale, and nothing since could change what is left.
    announce_units((pid, units, True) for pid, units in sorted(left.items()))
    return order, False


# Any constant key of our own: PostgreSQL advisory locks share one space per database.
HELD_UNITS_LOCK = 0x5E1D


def held_units_limit() -> int:
    return int(current_app.config["SHOP_MAX_HELD_UNITS"])


@prepared
def _held_by_buyer():
    """Units per product (among ``ids``) in the buyer's live holds of other orders."""
    return (
        select(StockReservation.product_id, func.sum(StockReservation.quantity))
        .join(Order, Order.id == StockReservation.order_id)
        .where(
            Order.buyer_id == bindparam("buyer_id"),
            Order.id != bindparam("order_id"),
            StockReservation.product_id.in_(bindparam("ids", expanding=True)),
            StockReservation.state == "active",
            StockReservation.expires_at > bindparam("at"),
        )
        .group_by(StockReservation.product_id)
    )


def _check_held_units(buyer, order: Order, lines, raw_index: dict[int, int]) -> None:
    """Refuse (Conflict ``too_many_held_units``) when this order would take the buyer's
    unpaid holds of a product past SHOP_MAX_HELD_UNITS.

    A hard limit under concurrency: on PostgreSQL the buyer's orders take one
    transaction-scoped lock per buyer (in the INSERT of the order row, see
    ``_claim_order_row``) before counting, so two of their orders never count at the
    same time (it is released at commit, when the counted holds are visible; this count
    is a statement after the lock, so it sees them). SQLite runs one writer at a time,
    and this order's row is already written. Counts holds of held and pending orders
    that have not expired.
    """
    limit = held_units_limit()
    ids = [line.product.id for line in lines]
    held = dict(
        db.session.execute(
            _held_by_buyer(), {"buyer_id": buyer.id, "order_id": order.id, "ids": ids, "at": now()}
        )
        .tuples()
        .all()
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
    pending = db.session.scalar(_pending_of_buyer(), {"buyer_id": buyer.id, "at": now()})
    if pending >= int(current_app.config["SHOP_MAX_PENDING_ORDERS"]):
        raise Conflict(
            "You have too many unpaid orders; pay or cancel one first.",
            code="too_many_pending_orders",
        )
    ratelimit.consume(
        current_app.config["SHOP_ORDER_LIMIT"],
        "shop-order",
        buyer.id,
        message="You are placing orders too fast; wait a moment.",
    )


@prepared
def _pending_of_buyer():
    return (
        select(func.count())
        .select_from(Order)
        .where(
            Order.buyer_id == bindparam("buyer_id"),
            Order.status == "pending",
            Order.expires_at > bindparam("at"),
        )
    )


@prepared_for
def _insert_order(dialect: str, once: bool = False):
    """INSERT the order row RETURNING it (``once``: unless the buyer's idempotency key
    exists). On PostgreSQL the RETURNING also takes the buyer's order lock
    (``pg_advisory_xact_lock``, see ``_check_held_units``): it is evaluated for the
    inserted row only, after the unique index let it in, so a twin refused by the key
    takes no lock, as before, and the lock costs no statement of its own."""
    statement = insert_ignore(Order, None, dialect=dialect) if once else insert(Order)
    if dialect != "postgresql":
        return statement.returning(Order)
    lock = func.pg_advisory_xact_lock(literal(HELD_UNITS_LOCK), Order.buyer_id)
    return statement.returning(Order, lock)


def _claim_order_row(values: dict) -> Order | None:
    """Insert the order row; None when (buyer, idempotency key) already exists.

    Returns the object itself (RETURNING the row): the session holds clean objects
    weakly, so an id alone would cost a SELECT to get the order back."""
    once = values.get("idempotency_key") is not None
    row = db.session.execute(_insert_order(db.session, once), values).first()
    return None if row is None else row[0]


def set_source(order: Order, source_kind: str, source_id: int, author_id: int | None) -> bool:
    """Record where the order came from (a post or chat message and its author); first one wins.

    Called by attribution. Returns False when a source was already set.
    """
    if source_kind not in ("post", "message", "campaign"):
        raise field_error("source_kind", "Use post, message or campaign.")
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
