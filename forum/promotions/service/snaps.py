"""Timed snap-ups: limited stock at a special price from a set time, with a per-user limit.

Buying is one transaction with three guards, each ONE conditional statement:
the shop's ``place_order`` takes the product's units (and claims the
Idempotency-Key), then ``promo_snap_buyers.bought`` grows only while it stays
within the limit (an upsert with a WHERE, so 20 parallel requests of one user
serialise on that row and at most ``per_user_limit`` get through), then
``promo_snaps.stock_left`` shrinks only while it stays >= 0 and the snap-up is
running. Any refusal rolls the whole transaction back.

Lock order (PostgreSQL never deadlocks): orders (ascending), then the product
row, then the buyer's row, then the snap-up row. The shop's cancel/expire/refund
paths lock the order, then our listener locks the product before giving units
back to the buyer and snap-up rows; buying locks the new order, product, buyer, snap.

An unpaid snap-up order expires after SNAP_PAYMENT_WINDOW_MINUTES; its units
come back to ``stock_left`` and to the buyer's allowance when the shop cancels it
(job, reader, or the next buyer of this snap-up), and readers count an expired,
not yet cancelled order's units as available already.
"""

import functools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm.attributes import set_committed_value

from ... import realtime
from ...clock import now
from ...database import dialect_insert
from ...errors import Conflict, ValidationFailed
from ...extensions import db
from ...shop_embed import service as shop
from ...trust import service as trust
from ..models import Snap, SnapBuyer, SnapPurchase
from . import holds, soldout
from .common import (
    MAX_CAMPAIGN,
    MAX_PER_USER,
    SNAPS,
    add_promotion,
    check_audience,
    check_can_act,
    check_fields,
    check_idempotency_key,
    check_units,
    end_promotion,
    own_product,
    promo_price,
    promotions_on_offer,
    read_time,
)

KIND = "snap"
NOUN = "snap-up"
get_snap, snaps_of, snap_url, snap_room = SNAPS.get, SNAPS.of, SNAPS.url, SNAPS.room


def snap_payment_window() -> timedelta:
    """How long a snap-up order waits for payment (SNAP_PAYMENT_WINDOW_MINUTES)."""
    return holds.payment_window("SNAP_PAYMENT_WINDOW_MINUTES")


STATES = ("upcoming", "live", "sold_out", "ended")


# --- campaigns ---------------------------------------------------------------------


def create_snap(
    actor, *, product_id, price_cents, stock, per_user_limit, starts_at, ends_at, audience="all"
) -> Snap:
    """A new snap-up of one of ``actor``'s products. Raises Forbidden or ValidationFailed.

    Its stock must be on the shelf now (the product's units are still taken per
    order, so a snap-up never sells what the shop does not have).
    """
    errors: dict[str, list[str]] = {}
    merchant, product = own_product(actor, product_id, errors)
    price = promo_price(price_cents, "price_cents", product, errors)
    units, limit = check_units(stock, "stock", per_user_limit, product, errors)
    at = now()
    start = read_time("starts_at", starts_at, errors)
    end = read_time("ends_at", ends_at, errors)
    if start is not None and end is not None:
        if end <= start:
            errors.setdefault("ends_at", []).append("End after the start.")
        elif end <= at:
            errors.setdefault("ends_at", []).append("End in the future.")
        elif end - start > MAX_CAMPAIGN or start > at + MAX_CAMPAIGN:
            errors.setdefault("ends_at", []).append("Run it within the next 90 days.")
    check_audience(audience, errors)
    check_fields(errors)
    return add_promotion(
        Snap,
        merchant,
        product,
        at,
        price_cents=price,
        stock=units,
        stock_left=units,
        per_user_limit=limit,
        starts_at=start,
        ends_at=end,
        audience=audience,
    )


def current_snaps(limit: int = 12) -> list[Snap]:
    """Snap-ups running now or starting later, soonest first."""
    return promotions_on_offer(Snap, Snap.starts_at, limit)


def end_snap(actor, snap: Snap) -> Snap:
    """End a snap-up now (its shop or an admin). Orders already placed stay; ending twice is a no-op."""
    end_promotion(actor, Snap, snap, now())
    soldout.forget(snap.id)  # an attempt answered from the marker would say sold out, not ended
    _announce(snap)
    return snap


# --- reading -----------------------------------------------------------------------


def _lapsed_units(snap_ids: list[int]) -> dict[int, int]:
    """Units per snap-up in unpaid orders past their deadline that were not given back yet."""
    unreturned = select(SnapPurchase.order_id).where(
        SnapPurchase.snap_id.in_(snap_ids), SnapPurchase.returned_at.is_(None)
    )
    return holds.units_in(
        SnapPurchase.snap_id,
        func.sum(SnapPurchase.quantity),
        snap_ids,
        shop.overdue_order_ids(among=unreturned),
    )


def stock_left(snaps: list[Snap]) -> dict[int, int]:
    """What can still be bought per snap-up, counting lapsed unpaid orders as back (one query)."""
    lapsed = _lapsed_units([s.id for s in snaps])
    return {s.id: s.stock_left + lapsed.get(s.id, 0) for s in snaps}


def state_of(snap: Snap, left: int, at: datetime | None = None) -> str:
    at = at or now()
    if at >= snap.closes_at():
        return "ended"
    if at < snap.starts_at:
        return "upcoming"
    return "sold_out" if left <= 0 else "live"


def bought_by(user, snap: Snap) -> int:
    """Units ``user`` holds of ``snap`` (pending or paid)."""
    if not user or not getattr(user, "is_authenticated", False):
        return 0
    return (
        db.session.scalar(
            select(SnapBuyer.bought).where(
                SnapBuyer.snap_id == snap.id, SnapBuyer.user_id == user.id
            )
        )
        or 0
    )


def sales(snap: Snap) -> dict[str, int]:
    """Units sold (paid or further), held (awaiting payment) and orders, from the orders themselves."""
    orders = shop.order_statuses(
        select(SnapPurchase.order_id).where(SnapPurchase.snap_id == snap.id)
    ).subquery()
    rows = db.session.execute(
        select(orders.c.status, func.count(orders.c.id), func.sum(SnapPurchase.quantity))
        .join(SnapPurchase, SnapPurchase.order_id == orders.c.id)
        .where(SnapPurchase.snap_id == snap.id)
        .group_by(orders.c.status)
    ).all()
    result = {"sold": 0, "held": 0, "orders": 0, "buyers": 0}
    for status, orders, units in rows:
        if status in shop.PAID_STATUSES:
            result["sold"] += int(units)
        elif status == "pending":
            result["held"] += int(units)
        result["orders"] += orders
    result["buyers"] = (
        db.session.scalar(
            select(func.count())
            .select_from(SnapBuyer)
            .where(SnapBuyer.snap_id == snap.id, SnapBuyer.bought > 0)
        )
        or 0
    )
    return result


def snap_payload(snap: Snap, left: int | None = None) -> dict:
    at = now()
    if left is None:
        left = stock_left([snap])[snap.id]
    return {
        "kind": "snap",
        "id": snap.id,
        "stock": snap.stock,
        "stock_left": left,
        "state": state_of(snap, left, at),
        "starts_at": snap.starts_at.isoformat(),
        "ends_at": snap.closes_at().isoformat(),
        "server_now": at.isoformat(),
    }


def _announce(snap: Snap) -> None:
    realtime.announce("snap_state", snap_payload(snap), room=snap_room(snap.id))


# --- buying ------------------------------------------------------------------------


def _take_allowance(snap: Snap, user, quantity: int) -> bool:
    """The per-user guard: ``bought + q <= limit`` in one upsert; True when it was taken."""
    statement = dialect_insert(SnapBuyer).values(snap_id=snap.id, user_id=user.id, bought=quantity)
    statement = statement.on_conflict_do_update(
        index_elements=[SnapBuyer.snap_id, SnapBuyer.user_id],
        set_={"bought": SnapBuyer.bought + statement.excluded.bought},
        where=(SnapBuyer.bought + statement.excluded.bought) <= snap.per_user_limit,
    ).returning(SnapBuyer.bought)
    return db.session.execute(statement).first() is not None


_PURCHASES = SnapPurchase.__table__


@functools.cache
def _sale_in_one() -> Any:
    """PostgreSQL: the per-user guard, the stock guard and the sale row as ONE statement
    (data-modifying CTEs, each run once, in order of need): the upsert of
    ``_take_allowance``, then ``holds.take_units``' conditional UPDATE only when the
    allowance was taken, then the purchase row only when the units were. Answers (bought
    or NULL, stock_left after or NULL). One round trip while the product row is locked
    instead of three; built once (bind parameters ``snap_id``, ``user_id``, ``order_id``,
    ``quantity``, ``limit``, ``at``)."""
    snaps = Snap.__table__
    quantity = bindparam("quantity", type_=Integer)
    snap_id, user_id = bindparam("snap_id", type_=Integer), bindparam("user_id", type_=Integer)
    at = bindparam("at", type_=snaps.c.starts_at.type)
    upsert = postgresql.insert(SnapBuyer.__table__).values(
        snap_id=snap_id, user_id=user_id, bought=quantity
    )
    allowance = (
        upsert.on_conflict_do_update(
            index_elements=["snap_id", "user_id"],
            set_={"bought": SnapBuyer.__table__.c.bought + upsert.excluded.bought},
            where=(SnapBuyer.__table__.c.bought + upsert.excluded.bought)
            <= bindparam("limit", type_=Integer),
        )
        .returning(SnapBuyer.__table__.c.bought)
        .cte("allowance")
    )
    taken = (
        update(snaps)
        .where(
            snaps.c.id == snap_id,
            snaps.c.stock_left >= quantity,
            snaps.c.starts_at <= at,
            snaps.c.ends_at > at,
            snaps.c.ended_at.is_(None),
            exists(select(allowance.c.bought)),
        )
        .values(stock_left=snaps.c.stock_left - quantity)
        .returning(snaps.c.stock_left)
        .cte("taken")
    )
    sale = (
        insert(_PURCHASES)
        .from_select(
            ["snap_id", "user_id", "order_id", "quantity", "created_at"],
            select(
                snap_id, user_id, bindparam("order_id", type_=Integer), quantity, at
            ).select_from(taken),
        )
        .returning(_PURCHASES.c.id)
        .cte("sale")
    )
    return select(
        select(allowance.c.bought).scalar_subquery(),
        select(taken.c.stock_left).where(exists(select(sale.c.id))).scalar_subquery(),
    )


def _sell(snap: Snap, user, order_id: int, quantity: int, at: datetime) -> int:
    """The sale's guards and row, after the shop took the product's units (its row is
    locked until commit, so this is kept to one round trip on PostgreSQL): the buyer's
    allowance, the snap-up's units while it runs, the purchase row. Returns ``stock_left``
    after; raises ``limit_reached``, ``not_started`` / ``ended`` or ``sold_out``."""
    if db.session.get_bind().dialect.name == "postgresql":
        bought, left = db.session.execute(
            _sale_in_one(),
            {
                "snap_id": snap.id,
                "user_id": user.id,
                "order_id": order_id,
                "quantity": quantity,
                "limit": snap.per_user_limit,
                "at": at,
            },
        ).one()
        allowed = bought is not None
    else:  # SQLite runs one writer at a time: the same three steps, one statement each
        allowed = _take_allowance(snap, user, quantity)
        left = holds.take_units(Snap, Snap.stock_left, snap.id, quantity, at) if allowed else None
        if left is not None:
            db.session.execute(
                insert(_PURCHASES).values(
                    snap_id=snap.id,
                    user_id=user.id,
                    order_id=order_id,
                    quantity=quantity,
                    created_at=at,
                )
            )
    if not allowed:
        raise _limit_reached(snap.per_user_limit)
    if left is None:
        db.session.refresh(snap)
        raise holds.time_refusal(snap, at, NOUN) or _sold_out()
    return left


def _sold_out() -> Conflict:
    return Conflict("Sold out.", code="sold_out", fields={"quantity": ["Sold out."]})


def _limit_reached(limit: int) -> Conflict:
    return Conflict(
        f"You can buy at most {limit} of this snap-up.",
        code="limit_reached",
        fields={"quantity": [f"At most {limit} per member."]},
    )


def _unreturned(snap_id: int):
    return select(SnapPurchase.order_id).where(
        SnapPurchase.snap_id == snap_id, SnapPurchase.returned_at.is_(None)
    )


def _read_stock(snap: Snap, user) -> tuple[int, int, bool]:
    """(stock_left, units ``user`` holds, whether an unpaid order lapsed unreturned): one read."""
    bought = (
        select(SnapBuyer.bought)
        .where(SnapBuyer.snap_id == snap.id, SnapBuyer.user_id == user.id)
        .scalar_subquery()
    )
    lapsed = shop.overdue_order_ids(among=_unreturned(snap.id)).exists()
    left, held, any_lapsed = db.session.execute(
        select(Snap.stock_left, func.coalesce(bought, 0), lapsed).where(Snap.id == snap.id)
    ).one()
    return left, held, bool(any_lapsed)


@functools.cache
def _allowance_read():
    """The one statement of a refusal after the sell-out, built once (bind parameters
    ``snap_id``, ``user_id``, ``key``): the snap-up's limit, the buyer's units, whether the
    key already names one of the buyer's orders."""
    bought = (
        select(SnapBuyer.bought)
        .where(SnapBuyer.snap_id == bindparam("snap_id"), SnapBuyer.user_id == bindparam("user_id"))
        .scalar_subquery()
    )
    replay = shop.order_ids_with_key(bindparam("user_id"), bindparam("key")).exists()
    return select(Snap.per_user_limit, func.coalesce(bought, 0), replay).where(
        Snap.id == bindparam("snap_id")
    )


def _allowance(snap_id: int, user, key: str | None) -> tuple[int, int, bool] | None:
    """(the per-member limit, units ``user`` holds, whether ``key`` names one of their
    orders) of snap-up ``snap_id`` in one light read (no row loaded, nothing locked); None
    when there is no such snap-up."""
    row = db.session.execute(
        _allowance_read(), {"snap_id": snap_id, "user_id": user.id, "key": key}
    ).first()
    return None if row is None else (row[0], row[1], bool(row[2]))


def _marked_refusal(limit: int, held: int, quantity: int) -> Conflict:
    """The answer while the sold-out marker holds: the buyer's own when their units
    are at the limit (as before the sell-out), else sold out. The marker lapses at the
    first payment deadline, so no unpaid unit has lapsed back meanwhile: ``held`` is exact."""
    return _limit_reached(limit) if held + quantity > limit else _sold_out()


def _sold_out_until(snap: Snap) -> datetime:
    """When units could come back at the earliest without a give-back: the first payment
    deadline among pending orders, else the end of the snap-up."""
    orders = shop.order_deadlines(among=_unreturned(snap.id)).subquery()
    first = db.session.scalar(
        select(func.min(orders.c.expires_at)).where(orders.c.status == "pending")
    )
    return min(first, snap.closes_at()) if first is not None else snap.closes_at()


def _check_buyer(user, quantity) -> None:
    """The checks of every attempt before the snap-up is looked at: the account may act
    and pass the trust gate, and ``quantity`` is a whole number of units."""
    check_can_act(user)
    trust.check_commerce(user, "snap")
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not 1 <= quantity <= MAX_PER_USER
    ):
        raise ValidationFailed(
            "Choose how many to buy.",
            fields={"quantity": [f"Use a whole number from 1 to {MAX_PER_USER}."]},
        )


def _snap_to_buy(snap_id: int, user, key: str | None) -> tuple | None:
    """The snap-up (without its product: buying does not need it) with what an attempt
    reads before its guards, in one statement: (snap, stock_left, units ``user`` holds,
    whether an unpaid order lapsed unreturned, whether ``key`` names one of the buyer's
    orders); None when there is no such snap-up."""
    bought = (
        select(SnapBuyer.bought)
        .where(SnapBuyer.snap_id == snap_id, SnapBuyer.user_id == user.id)
        .scalar_subquery()
    )
    lapsed = shop.overdue_order_ids(among=_unreturned(snap_id)).exists()
    replay = shop.order_ids_with_key(user.id, key).exists()
    row = db.session.execute(
        select(Snap, Snap.stock_left, func.coalesce(bought, 0), lapsed, replay).where(
            Snap.id == snap_id
        )
    ).first()
    return None if row is None else tuple(row)


def buy_snap_by_id(
    user, snap_id, quantity, *, idempotency_key=None, shipping_address=None
) -> tuple:
    """``buy_snap`` of the snap-up ``snap_id`` (NotFound for none), as the API calls it:
    the same answers, read with fewer statements.

    After the sell-out (the marker holds) an attempt is answered before the snap-up is
    loaded: one light read of its limit and the buyer's units (``limit_reached`` for a
    buyer at the limit, else ``sold_out``). Otherwise the snap-up, its stock, the buyer's
    units and whether the key was spent already come in one read. A key that already
    names one of the buyer's orders goes ``buy_snap``'s way (its replay, or
    ``idempotency_key_reused``). Nothing is written on a refusal.
    """
    _check_buyer(user, quantity)
    key = check_idempotency_key(idempotency_key)
    if not isinstance(snap_id, int):
        get_snap(snap_id)  # NotFound
    at = now()
    marker = soldout.sold_out(snap_id, at)
    if marker[0]:
        allowance = _allowance(snap_id, user, key)
        if allowance is not None and not allowance[2]:
            raise _marked_refusal(allowance[0], allowance[1], quantity)
    found = _snap_to_buy(snap_id, user, key)
    if found is None:
        get_snap(snap_id)  # NotFound, in its words
    snap, left, held, lapsed, replay = found
    if replay:
        return buy_snap(
            user, snap, quantity, idempotency_key=key, shipping_address=shipping_address
        )
    refusal = holds.time_refusal(snap, at, NOUN)
    if refusal is not None:
        raise refusal
    return _take(user, snap, quantity, key, at, shipping_address, marker, (left, held, lapsed))


def buy_snap(user, snap: Snap, quantity, *, idempotency_key=None, shipping_address=None) -> tuple:
    """Buy ``quantity`` units at the snap-up price; returns (pending order, replayed).

    The order must be paid within SNAP_PAYMENT_WINDOW_MINUTES or its units return.
    Raises Conflict ``not_started`` / ``ended`` / ``sold_out`` / ``limit_reached``
    (also ``too_many_pending_orders`` from the shop), Forbidden (suspended),
    ValidationFailed (quantity, key, address). On a refusal nothing is written
    (the caller rolls back).
    """
    _check_buyer(user, quantity)
    key, first, at = holds.begin_take(
        user, idempotency_key, SnapPurchase, SnapPurchase.snap_id, snap, NOUN
    )
    if first is not None:
        return first, True
    return _take(user, snap, quantity, key, at, shipping_address, soldout.sold_out(snap.id, at))


def _take(user, snap: Snap, quantity, key, at, shipping_address, marker, stock=None) -> tuple:
    """An attempt after its replay and time checks: the limit, the marker, the stock read
    (``stock``: (stock_left, held, lapsed) when read already), then the order and the
    guards."""
    if quantity > snap.per_user_limit:
        raise _limit_reached(snap.per_user_limit)
    # Cheap refusals (nothing locked: most attempts of a rush end here); the three guards
    # below decide. After the last unit went, a marker answers with the buyer's own units.
    marked, generation = marker
    if marked:
        raise _marked_refusal(snap.per_user_limit, bought_by(user, snap), quantity)
    left, held, lapsed = stock or _read_stock(snap, user)
    if lapsed:
        holds.return_lapsed(SnapPurchase, SnapPurchase.snap_id, snap.id)
        left, held, _ = _read_stock(snap, user)
    if held + quantity > snap.per_user_limit:
        raise _limit_reached(snap.per_user_limit)
    if left < quantity:
        if left <= 0:
            soldout.mark(snap.id, generation, _sold_out_until(snap), at)
        raise _sold_out()
    order, replayed = holds.place_held_order(
        user,
        snap.product_id,
        quantity,
        kind=KIND,
        price=snap.price_cents,
        pay_within=snap_payment_window(),
        key=key,
        shipping_address=shipping_address,
        sold_out=_sold_out,
        choices={"audience": snap.audience},
    )
    if replayed:
        return holds.replayed(order, SnapPurchase, SnapPurchase.snap_id, snap.id), True
    left = _sell(snap, user, order.id, quantity, at)
    # The guard returned the new count (lapsed orders were just given back): no reads
    # while this buyer holds the product and snap-up rows.
    set_committed_value(snap, "stock_left", left)
    realtime.announce("snap_state", snap_payload(snap, left), room=snap_room(snap.id))
    return order, False


def give_back(order, *, event, **_) -> None:
    """``signals.order_changed`` (connected in ``promotions.init_app``): a snap-up order
    cancelled (by hand or unpaid past its window) or refunded: its units go back to the
    snap-up and to the buyer's allowance, exactly once."""
    purchase = holds.returnable(SnapPurchase, order, event, KIND)
    if purchase is None:
        return
    shop.lock_products(item.product_id for item in order.items)  # the shop's lock order
    if not holds.mark_returned(SnapPurchase, purchase):
        return
    db.session.execute(
        update(SnapBuyer)
        .where(SnapBuyer.snap_id == purchase.snap_id, SnapBuyer.user_id == purchase.user_id)
        .values(bought=SnapBuyer.bought - purchase.quantity)
        .execution_options(synchronize_session=False)
    )
    holds.put_back(Snap, Snap.stock_left, purchase.snap_id, purchase.quantity)
    soldout.forget(purchase.snap_id)
    snap = db.session.get(Snap, purchase.snap_id)
    db.session.refresh(snap)
    _announce(snap)
