"""Expiry: an unpaid order past its deadline is cancelled and its holds go back on the shelf.

The rule lives here once: ``is_overdue`` (one order), ``overdue_order_ids`` (SQL, for
other features' queries, e.g. a snap-up's lapsed units). Nothing depends on the sweep
having run: readers and buyers already ignore expired holds (``available_stock``) and
show an overdue order as cancelled (``shown_status``); reading never writes. The
``shop.expire_orders`` task calls ``expire_due_orders``; writes refuse an overdue
order (paying answers ``order_expired``) or expire it first (a snap-up taking its
lapsed units back).
"""

from datetime import datetime

from sqlalchemy import Select, select

from ...clock import now
from ...errors import Conflict
from ...extensions import db
from ..models import Order
from .fulfilment import _after_release
from .lifecycle import change_status


def is_overdue(order: Order, at: datetime | None = None) -> bool:
    """An unpaid order past its deadline: cancelled in effect (its holds stopped counting,
    it cannot be paid), whether or not the sweep has written that down yet."""
    return (
        order.status == "pending"
        and order.expires_at is not None
        and order.expires_at <= (at or now())
    )


def shown_status(order: Order) -> str:
    """The status a reader is shown: an overdue unpaid order reads ``cancelled`` before
    the sweep records its ``expired`` event (the same rule as ``available_stock``)."""
    return "cancelled" if is_overdue(order) else order.status


def overdue_order_ids(among=None, *, limit: int | None = None) -> Select:
    """``SELECT id`` of unpaid orders past their deadline; ``among`` (a subquery or list of
    order ids) narrows it; with ``limit``, the oldest first. Other features compose it into
    their queries instead of re-deriving the rule."""
    query = select(Order.id).where(Order.status == "pending", Order.expires_at <= now())
    if among is not None:
        query = query.where(Order.id.in_(among))
    if limit is not None:
        query = query.order_by(Order.id).limit(limit)
    return query


def unpaid_order_ids() -> Select:
    """``SELECT id`` of unpaid orders still inside their payment window (the complement
    of ``overdue_order_ids`` among pending orders with a deadline), for another
    feature's counts of units that may still be paid for."""
    return select(Order.id).where(Order.status == "pending", Order.expires_at > now())


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


def expire_due_orders(limit: int = 500) -> int:
    """Cancel unpaid orders past their deadline and put their holds back. Idempotent.

    Returns how many orders it expired. Nothing depends on it having run:
    readers and buyers already ignore expired holds. Each order is committed on
    its own: one transaction never goes back from product locks to an order lock.
    """
    due = db.session.scalars(overdue_order_ids(limit=limit)).all()
    db.session.commit()
    expired = 0
    for order_id in due:
        order = db.session.get(Order, order_id)
        if order is not None and expire_order(order):
            expired += 1
        db.session.commit()
    return expired
