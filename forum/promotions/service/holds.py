"""Units held for an unpaid order, shared by snap-ups and Dutch auctions.

Both sell a counted stock of their own (``Snap.stock_left``, ``Auction.units_left``)
through a shop order with a short payment window, and keep one row per sale
(``SnapPurchase``, ``AuctionSale``: ``order_id``, ``returned_at``). The rules for
those rows are the same, so they live here once:

- ``payment_window``: how long the order waits for payment (a setting per kind);
- ``begin_take`` / ``replay``: an idempotent retry must have been a sale of this offer;
- ``return_lapsed``: unpaid sales past their window are cancelled (orders locked in
  ascending id first, so the lock order holds), their units come back;
- ``take_units``: THE guard, one conditional UPDATE of the offer's counter while it
  runs; it holds the offer row until commit;
- ``place_held_order``: the shop order at the offer's price, the shop's
  ``insufficient_stock`` read as this offer's ``sold_out``;
- ``returnable`` / ``mark_returned`` / ``put_back``: an order cancelled, expired or
  refunded gives its units back exactly once (``returned_at``).
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from ...clock import now
from ...errors import Conflict
from ...extensions import db
from ...shop_embed import service as shop
from .common import check_idempotency_key, key_reused, order_by_key, stamp_once

RETURNING_EVENTS = ("cancelled", "expired", "refunded")


def payment_window(setting: str) -> timedelta:
    """The payment window a config setting (in minutes) gives."""
    return timedelta(minutes=int(current_app.config[setting]))


def time_refusal(offer: Any, at: datetime, noun: str) -> Conflict | None:
    """``not_started`` before ``starts_at``, ``ended`` from ``closes_at()`` on, else None."""
    if at < offer.starts_at:
        return Conflict(f"This {noun} has not started yet.", code="not_started")
    if at >= offer.closes_at():
        return Conflict(f"This {noun} has ended.", code="ended")
    return None


def _sale_of(sale_model: Any, order_id: int) -> Any:
    return db.session.scalar(select(sale_model).where(sale_model.order_id == order_id))


def replay(
    user: Any, key: str | None, sale_model: Any, offer_column: Any, offer_id: int
) -> Any | None:
    """The order a first request with ``key`` made, when it was a sale of this offer
    (None without a key or a first request); Conflict ``idempotency_key_reused`` when the
    key was spent on something else."""
    if key is None:
        return None
    first = order_by_key(user, key)
    return None if first is None else replayed(first, sale_model, offer_column, offer_id)


def begin_take(
    user: Any, idempotency_key: Any, sale_model: Any, offer_column: Any, offer: Any, noun: str
) -> tuple[str | None, Any | None, datetime]:
    """A take's first steps, in the order every take does them: the Idempotency-Key is
    checked, then a first request with it is found (to replay: nothing more is checked),
    else the offer's time window is (Conflict ``not_started`` / ``ended``). Returns
    ``(key, first order or None, the moment of the check)``."""
    key = check_idempotency_key(idempotency_key)
    first = replay(user, key, sale_model, offer_column, offer.id)
    at = now()
    if first is None:
        refusal = time_refusal(offer, at, noun)
        if refusal is not None:
            raise refusal
    return key, first, at


def replayed(order: Any, sale_model: Any, offer_column: Any, offer_id: int) -> Any:
    """``order`` when it is a sale of this offer; Conflict ``idempotency_key_reused`` if not."""
    sale = _sale_of(sale_model, order.id)
    if sale is None or getattr(sale, offer_column.key) != offer_id:
        raise key_reused()
    return order


def units_in(offer_column: Any, units: Any, offer_ids: list[int], orders: Any) -> dict[int, int]:
    """Per offer: ``units`` (an aggregate) of its sales not given back whose order is among
    ``orders`` (a ``SELECT id``: the shop's overdue or unpaid orders); one query."""
    if not offer_ids:
        return {}
    sale_model = offer_column.class_
    rows = db.session.execute(
        select(offer_column, units)
        .where(
            offer_column.in_(offer_ids),
            sale_model.returned_at.is_(None),
            sale_model.order_id.in_(orders),
        )
        .group_by(offer_column)
    )
    return {offer_id: int(n) for offer_id, n in rows}


def return_lapsed(sale_model: Any, offer_column: Any, offer_id: int) -> int:
    """Cancel this offer's unpaid orders past their deadline (their units come back);
    returns how many moved. Locks those orders first, in ascending id."""
    unreturned = select(sale_model.order_id).where(
        offer_column == offer_id, sale_model.returned_at.is_(None)
    )
    ids = list(db.session.scalars(shop.overdue_order_ids(among=unreturned, limit=50)))
    if not ids:
        return 0
    shop.lock_orders(ids)
    return sum(shop.expire_order(shop.find_order(order_id)) for order_id in ids)


def take_units(model: Any, counter: Any, offer_id: int, quantity: int, at: datetime) -> int | None:
    """THE guard: ``counter -= quantity`` while it stays >= 0 and the offer runs at ``at``,
    in one conditional UPDATE; the counter after it, None when refused. It holds the offer
    row until commit."""
    return db.session.execute(
        update(model)
        .where(
            model.id == offer_id,
            counter >= quantity,
            model.starts_at <= at,
            model.ends_at > at,
            model.ended_at.is_(None),
        )
        .values({counter: counter - quantity})
        .returning(counter)
        .execution_options(synchronize_session=False)
    ).scalar()


def put_back(model: Any, counter: Any, offer_id: int, quantity: int) -> None:
    """``counter += quantity`` in SQL (never a read-modify-write)."""
    db.session.execute(
        update(model)
        .where(model.id == offer_id)
        .values({counter: counter + quantity})
        .execution_options(synchronize_session=False)
    )


def place_held_order(
    user: Any,
    product_id: int,
    quantity: int,
    *,
    kind: str,
    price: int,
    pay_within: timedelta,
    key: str | None,
    shipping_address: Any,
    sold_out: Callable[[], Conflict],
    choices: dict | None = None,
) -> tuple[Any, bool]:
    """The shop's pending order for this sale; returns (order, replayed)."""
    try:
        return shop.place_order(
            user,
            [(product_id, quantity)],
            shipping_address=shipping_address,
            idempotency_key=key,
            kind=kind,
            unit_prices={product_id: price},
            pay_within=pay_within,
            choices=choices,
        )
    except Conflict as err:
        if err.code == "insufficient_stock":
            raise sold_out() from None
        raise


def returnable(sale_model: Any, order: Any, event: Any, kind: str) -> Any | None:
    """The sale row whose units ``order`` (of ``kind``) gives back on ``event``, or None
    (another kind, an event that keeps the units, or given back already)."""
    if order.kind != kind or event.type not in RETURNING_EVENTS:
        return None
    sale = _sale_of(sale_model, order.id)
    if sale is None or sale.returned_at is not None:
        return None
    return sale


def mark_returned(sale_model: Any, sale: Any) -> bool:
    """Claim the give-back: ``returned_at`` set once; True for the one caller that set it,
    so the units come back exactly once."""
    return stamp_once(sale_model.returned_at, sale.id, now())
