"""Expiry: an unpaid order past its deadline is cancelled and its holds go back on the shelf.

Nothing depends on it having run: readers and buyers already ignore expired holds
(``available_stock``). The ``shop.expire_orders`` job calls ``expire_due_orders``.
"""

from sqlalchemy import select

from ...clock import now
from ...errors import Conflict
from ...extensions import db
from ..models import Order
from .fulfilment import _after_release
from .lifecycle import change_status


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
