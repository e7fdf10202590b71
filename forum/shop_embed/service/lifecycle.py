"""The order state machine: every status change, the history it leaves, the signal it sends.

Receivers of ``forum.signals.order_changed`` (attribution, promotions) hear every
event an order records, inside its transaction: ``placed``, ``payment_started``,
``paid``, ``shipped``, ``completed``, ``cancelled``, ``expired`` (to cancelled),
``refunded``, ``source_set``, ``address_set``, ``released``, ``prepaid``.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import ClauseElement, bindparam, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ... import signals
from ...clock import now
from ...database import prepared
from ...errors import Conflict
from ...extensions import db
from ..models import Order, OrderEvent, Payment
from .common import PAID_STATUSES

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
    """Append an event to ``order``'s history and send ``signals.order_changed`` (in this
    transaction; a receiver that raises a ServiceError refuses the change). The only
    writer of OrderEvent (with ``new_event``)."""
    event = new_event(
        order, event_type, actor=actor, from_status=from_status, to_status=to_status, **params
    )
    send_event(order, event)
    return event


def new_event(
    order: Order,
    event_type: str,
    *,
    actor=None,
    from_status: str | None = None,
    to_status: str | None = None,
    **params,
) -> OrderEvent:
    """The event row, added to the session and not yet written nor announced: for a caller
    whose next flush writes it with other rows (placing an order: with its lines and
    holds, before the product rows are locked); ``send_event`` announces it after."""
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
    return event


def send_event(order: Order, event: OrderEvent) -> None:
    """Write ``event`` if it is not yet, then send ``signals.order_changed`` for it."""
    db.session.flush()
    signals.order_changed.send(order, event=event)


def change_status(
    order: Order,
    to_status: str,
    *,
    actor=None,
    event_type: str | None = None,
    conditions=(),
    live_only: bool = False,
    from_statuses: tuple[str, ...] | None = None,
    also: dict | None = None,
    **params,
) -> OrderEvent:
    """Move ``order`` to ``to_status`` if it is in an allowed state: one conditional UPDATE.

    ``from_statuses`` replaces TRANSITIONS' starting states (release_held and
    void_held use it; nothing else moves a held order). Extra SQL ``conditions``
    narrow it further; ``live_only`` is the condition "not past its deadline" (paying),
    with which, and with no other, the UPDATE is a prepared statement (see
    ``_move_statement``). Raises Conflict (``already_paid`` /
    ``order_held`` / ``invalid_status``) and changes nothing when the order is not
    where the transition starts. Records the OrderEvent (type ``event_type`` or
    the status name) and sends ``order_changed``. ``also`` sets more columns in the
    same UPDATE (paying clears the deadline and names the provider), so receivers
    already see them.
    """
    allowed = from_statuses if from_statuses is not None else TRANSITIONS[to_status]
    at = now()
    values = {"status": to_status, "updated_at": at}
    if to_status in STAMPS:
        values[STAMPS[to_status]] = at
    values |= also or {}
    prepared_move = not conditions and not any(
        isinstance(value, ClauseElement) for value in values.values()
    )
    if live_only:
        conditions = (*conditions, _not_expired())
    if _one_statement_move(order, to_status, allowed):
        # The conditional UPDATE locks the row and reads it back (RETURNING) in one
        # statement: with one starting state, from_status is that state.
        attrs = inspect(Order).column_attrs
        if prepared_move:
            move = _move_statement(tuple(values), live_only)
            moved_row = db.session.execute(
                move,
                {"move_id": order.id, "move_from": allowed[0], "move_at": at}
                | {f"set_{key}": value for key, value in values.items()},
            ).first()
        else:
            moved_row = db.session.execute(
                update(Order)
                .where(Order.id == order.id, Order.status == allowed[0], *conditions)
                .values(values)
                .returning(*(attr.columns[0] for attr in attrs))
                .execution_options(synchronize_session=False)
            ).first()
        if moved_row is not None:
            # The row as it is now (what others wrote meanwhile too), loaded columns only:
            # the order's relationships stay as they were.
            for attr, value in zip(attrs, moved_row, strict=True):
                set_committed_value(order, attr.key, value)
            return record_event(
                order,
                event_type or to_status,
                actor=actor,
                from_status=allowed[0],
                to_status=to_status,
                **params,
            )
        # Refused: read the row under lock below to say why (the caller rolls back).
    if db.session.get_bind().dialect.name != "sqlite":
        # Row lock so the recorded from_status is exact; SQLite serialises writers anyway.
        # The locking read reloads the row (status, address) in the same statement: its
        # row must be fetched for that (an unread result left the stale status, and a
        # payment that lost a race to another said "order_expired", not "already_paid").
        db.session.scalars(
            select(Order)
            .where(Order.id == order.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        ).first()
    else:
        db.session.refresh(order)
    from_status = order.status
    if to_status in NEEDS_ADDRESS and order.status in allowed:
        check_ships_somewhere(order)
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
    # Exactly what the UPDATE wrote: no need to read the row back.
    for name, value in values.items():
        set_committed_value(order, name, value)
    return record_event(
        order,
        event_type or to_status,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        **params,
    )


@prepared
def _move_statement(keys: tuple[str, ...], live_only: bool):
    """``change_status``'s UPDATE ... RETURNING every column, setting ``keys`` (from the
    ``set_<key>`` parameters) on order ``move_id`` in status ``move_from`` (and, with
    ``live_only``, not past its deadline at ``move_at``): built once per shape, as paying
    moves an order on every checkout."""
    conditions = [Order.id == bindparam("move_id"), Order.status == bindparam("move_from")]
    if live_only:
        deadline = bindparam("move_at", type_=Order.expires_at.type)
        conditions.append(Order.expires_at.is_(None) | (Order.expires_at > deadline))
    return (
        update(Order)
        .where(*conditions)
        .values({key: bindparam(f"set_{key}") for key in keys})
        .returning(*(attr.columns[0] for attr in inspect(Order).column_attrs))
        .execution_options(synchronize_session=False)
    )


# Every product the shop sells is a physical good that ships: an order is paid and
# shipped only once it says where it goes.
NEEDS_ADDRESS = ("paid", "shipped")


def _one_statement_move(order: Order, to_status: str, allowed: tuple[str, ...]) -> bool:
    """Whether the move can be its conditional UPDATE alone, with no locking read first.

    With one starting state the recorded from_status is exact without reading it. The
    address rule needs no fresh read when the loaded order already has an address: an
    address is replaced, never removed (``set_shipping_address`` refuses an empty one),
    so the row still has one. Otherwise (several starting states, no address known)
    the row is read under lock first, as before.
    """
    if len(allowed) != 1:
        return False
    if to_status not in NEEDS_ADDRESS:
        return True
    loaded = "shipping_address" not in inspect(order).unloaded
    return loaded and bool(order.shipping_address)


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


def _lock_order(order: Order) -> None:
    """Row-lock ``order`` and re-read its status (SQLite serialises writers anyway)."""
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.execute(
            select(Order.id).where(Order.id == order.id).with_for_update(key_share=True)
        )
    db.session.refresh(order)


def _not_expired():
    return (Order.expires_at.is_(None)) | (Order.expires_at > now())


def payment_window() -> timedelta:
    return timedelta(minutes=int(current_app.config["ORDER_PAYMENT_WINDOW_MINUTES"]))


def _succeeded_payment(order: Order) -> Payment | None:
    return db.session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.status == "succeeded")
        .order_by(Payment.id.desc())
    )
