"""Stock: the one conditional statement that takes units, and every write of a hold.

Holds (``StockReservation`` rows) are written here and nowhere else: placed with
their order (``reserve``), extended (``extend_holds``), consumed when the order is
paid (``consume_holds``), released (expired, cancelled, refunded). The state a
buyer sees (in stock / low / sold out) is computed once, by ``stock_state``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from ... import realtime
from ...clock import now
from ...database import prepared
from ...errors import Conflict
from ...extensions import db
from ...schemas import attrs
from ..models import Order, OrderItem, Product, StockReservation
from .common import LOW_STOCK, PAID_STATUSES


def _expired_held():
    """Units per product in holds that have expired but were not released yet."""
    return (
        select(StockReservation.product_id, func.sum(StockReservation.quantity).label("units"))
        .where(StockReservation.state == "active", StockReservation.expires_at <= now())
        .group_by(StockReservation.product_id)
    )


def available_units(at=None):
    """``Product.stock`` plus the product's expired, not yet released holds: what
    ``available_stock`` answers, as a column of a statement on ``shop_products`` (the
    quote's product read, the stock guard's RETURNING), so it costs no statement of its own.
    ``at`` is the moment (a ``bindparam`` in a prepared statement), now by default."""
    expired = (
        select(func.coalesce(func.sum(StockReservation.quantity), 0))
        .where(
            StockReservation.product_id == Product.id,
            StockReservation.state == "active",
            StockReservation.expires_at <= (now() if at is None else at),
        )
        .correlate(Product)
        .scalar_subquery()
    )
    return (Product.stock + expired).label("available")


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


@dataclass(frozen=True)
class StockState:
    """What a buyer is told about a product's stock: computed here only.

    ``state`` is ``in_stock``, ``low`` (at most LOW_STOCK left), ``sold_out`` or
    ``unavailable`` (archived or switched off); ``label`` is the words shown.
    Pages, product cards, the live pushes and the widget JS all use it.
    """

    state: str
    units: int
    label: str

    @property
    def sold_out(self) -> bool:
        return self.state in ("sold_out", "unavailable")

    @property
    def css(self) -> str:
        """The badge's class suffix (``stock-ok`` / ``stock-low`` / ``stock-out``)."""
        return {"in_stock": "ok", "low": "low"}.get(self.state, "out")

    def as_json(self) -> dict:
        """The live push's fields: the JS shows ``label`` and ``badge``, it computes nothing."""
        return {**attrs(self, "state", "label", "sold_out"), "stock": self.units, "badge": self.css}


def stock_state(units: int, *, available: bool = True) -> StockState:
    """The stock state for ``units`` buyable units (``available_stock``) of a product."""
    if not available:
        return StockState("unavailable", 0, "Unavailable")
    if units <= 0:
        return StockState("sold_out", 0, "Sold out")
    if units <= LOW_STOCK:
        return StockState("low", units, f"Only {units} left")
    return StockState("in_stock", units, "In stock")


def stock_label(units: int) -> str:
    return stock_state(units).label


def _take_stock(product_id: int, quantity: int) -> int | None:
    """THE guard: one conditional statement. None when ``quantity`` units could not be
    taken; else what can still be bought (``available_units`` after the take, read in
    the same statement while the row is locked, for the live stock push)."""
    taken = db.session.execute(
        _take_statement(), {"take_id": product_id, "take_units": quantity, "take_at": now()}
    ).first()
    return None if taken is None else int(taken[0])


@prepared
def _take_statement():
    units = bindparam("take_units")
    return (
        update(Product)
        .where(Product.id == bindparam("take_id"), Product.stock >= units, Product.is_buyable)
        .values(stock=Product.stock - units)
        .returning(available_units(bindparam("take_at")))
        .execution_options(synchronize_session=False)
    )


def _give_back(product_id: int, quantity: int) -> None:
    if quantity:
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity)
            .execution_options(synchronize_session=False)
        )


def _lock_product(product_id: int) -> None:
    """Row-lock a product before touching its holds (the lock order; see the module doc).

    FOR NO KEY UPDATE is what an UPDATE of the stock takes anyway. SQLite has no
    row locks: it runs one writer at a time, so there is nothing to order.
    """
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(
            select(Product.id).where(Product.id == product_id).with_for_update(key_share=True)
        )


def lock_products(product_ids: Iterable[int]) -> None:
    """Row-lock products in ascending id, the shop's lock order.

    For other features that change their own rows in the same transaction as an
    order's holds (e.g. a promotion giving units back when its order is
    cancelled): take these first, then your rows, so nobody deadlocks with the shop.
    """
    for product_id in sorted(set(product_ids)):
        _lock_product(product_id)


def _release_expired_holds(product_id: int) -> int:
    """Release every expired active hold of one product; returns the units given back.

    Each hold changes state in a conditional UPDATE, so a hold is released once
    however many buyers and jobs race for it.
    """
    _lock_product(product_id)
    released = (
        db.session.execute(
            update(StockReservation)
            .where(
                StockReservation.product_id == product_id,
                StockReservation.state == "active",
                StockReservation.expires_at <= now(),
            )
            .values(state="released", settled_at=now())
            .returning(StockReservation.quantity)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    units = sum(released)
    _give_back(product_id, units)
    return units


def _release_order_holds(order: Order, *, states=("active",), to_state="released") -> list[int]:
    """Give back the order's holds in ``states``, product by product in ascending id (lock order)."""
    product_ids = sorted({item.product_id for item in order.items})
    touched = []
    for product_id in product_ids:
        _lock_product(product_id)
        units = sum(
            db.session.execute(
                update(StockReservation)
                .where(
                    StockReservation.order_id == order.id,
                    StockReservation.product_id == product_id,
                    StockReservation.state.in_(states),
                )
                .values(state=to_state, settled_at=now())
                .returning(StockReservation.quantity)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        if units:
            _give_back(product_id, units)
            touched.append(product_id)
    return touched


def reserve(order: Order, lines, *, raw_index: dict[int, int] | None = None) -> dict[int, int]:
    """Hold ``lines`` (``[(product, quantity)]``, ascending product id) for ``order`` until
    its ``expires_at``: a hold row each, then the units taken off the shelf.

    The product rows stay locked from the moment their stock is taken until commit,
    so this runs as late as possible in placing. Expired holds are released only when
    the shelf alone is short (the hot path is one statement per line). Returns what can
    still be bought of each product (for ``announce_units``). Raises Conflict
    ``insufficient_stock`` (fields ``items.N.quantity``); the caller rolls back.
    """
    index_of = raw_index or {}
    at = now()
    for product, quantity in lines:
        db.session.add(
            StockReservation(
                order_id=order.id,
                product_id=product.id,
                quantity=quantity,
                expires_at=order.expires_at,
                created_at=at,
            )
        )
    db.session.flush()
    shortages: dict[str, list[str]] = {}
    left_after: dict[int, int] = {}
    for product, quantity in lines:  # ascending product id: the lock order
        units = _take_stock(product.id, quantity)
        if units is None and _release_expired_holds(product.id):
            units = _take_stock(product.id, quantity)
        if units is not None:
            left_after[product.id] = units
        else:
            left = available_stock([product.id]).get(product.id, 0)
            shortages[f"items.{index_of.get(product.id, 0)}.quantity"] = [
                f"Only {left} left of {product.name}."
                if left > 0
                else f"{product.name} is sold out."
            ]
    if shortages:
        raise Conflict(
            "Not enough stock for this order.", code="insufficient_stock", fields=shortages
        )
    return left_after


def _set_order_holds(order: Order, values: dict, *conditions) -> bool:
    """Update the order's active holds, product by product in ascending id (the lock order);
    True when every product of the order had one to update."""
    product_ids = sorted({item.product_id for item in order.items})
    moved = 0
    for product_id in product_ids:
        moved += db.session.execute(
            update(StockReservation)
            .where(
                StockReservation.order_id == order.id,
                StockReservation.product_id == product_id,
                StockReservation.state == "active",
                *conditions,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    return moved == len(product_ids)


def consume_holds(order: Order) -> bool:
    """The order is paid: its active holds become sold units. False when one was missing
    (it expired and a buyer took its units): the payment cannot stand."""
    return _set_order_holds(order, {"state": "consumed", "settled_at": now()})


def extend_holds(order: Order, until: datetime, *, only_live: bool = False) -> bool:
    """Move the order's active holds' deadline to ``until`` (``only_live``: only holds that
    have not expired yet). False when a product of the order had none to extend."""
    conditions = (StockReservation.expires_at > now(),) if only_live else ()
    return _set_order_holds(order, {"expires_at": until}, *conditions)


def _announce_stock(product_ids: Iterable[int]) -> None:
    """Queue the live stock of each product to its offer room (sent after commit).

    One statement: what can be bought and whether the product is on sale (it runs
    while an order's product rows are locked, so it stays short)."""
    ids = sorted(set(product_ids))
    if not ids:
        return
    expired = _expired_held().where(StockReservation.product_id.in_(ids)).subquery()
    rows = db.session.execute(
        select(
            Product.id,
            Product.stock + func.coalesce(expired.c.units, 0),
            Product.is_buyable,
        )
        .outerjoin(expired, expired.c.product_id == Product.id)
        .where(Product.id.in_(ids))
    )
    announce_units((product_id, int(units), bool(on_sale)) for product_id, units, on_sale in rows)


def announce_units(states: Iterable[tuple[int, int, bool]]) -> None:
    """Queue ``(product_id, buyable units, on sale)`` to each product's offer room (sent
    after commit): for a caller that already read them, as ``reserve`` does."""
    for product_id, units, buyable in states:
        state = stock_state(units, available=buyable)
        realtime.announce(
            "offer_stock",
            {"kind": "product", "id": product_id, **state.as_json(), "available": buyable},
            room=offer_room(product_id),
        )


def holds_intact(order: Order) -> bool:
    """Whether every product of ``order`` still has its active hold (none went back)."""
    active = db.session.scalar(
        select(func.count())
        .select_from(StockReservation)
        .where(StockReservation.order_id == order.id, StockReservation.state == "active")
    )
    return active == len({item.product_id for item in order.items})


def offer_room(product_id: int) -> str:
    return f"offer:product:{product_id}"


def sold_units(product_id: int) -> int:
    """Units of ``product_id`` in orders that are paid, shipped or completed."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(OrderItem.quantity), 0))
            .join(Order, Order.id == OrderItem.order_id)
            .where(OrderItem.product_id == product_id, Order.status.in_(PAID_STATUSES))
        )
        or 0
    )


def held_units(product_id: int) -> int:
    """Units of ``product_id`` in active holds (expired or not)."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(StockReservation.quantity), 0)).where(
                StockReservation.product_id == product_id, StockReservation.state == "active"
            )
        )
        or 0
    )
