"""Fulfilment: ship, complete, cancel, the address, and a held order released or voided."""

from sqlalchemy import update

from ...clock import now
from ...database import update_row
from ...errors import Conflict, Forbidden, field_error
from ...extensions import db
from .. import payments as providers
from ..models import Order, Payment
from .common import _address, is_admin, is_merchant
from .lifecycle import _succeeded_payment, change_status, payment_window, record_event
from .merchants import merchant_of
from .stock import _announce_stock, _release_order_holds, consume_holds, extend_holds, lock_products


def is_order_merchant(viewer, order: Order) -> bool:
    merchant = merchant_of(viewer) if is_merchant(viewer) else None
    return merchant is not None and merchant.id == order.merchant_id


def check_order_merchant(actor, order: Order) -> None:
    """Merchant actions: the order's merchant or an admin; others who can see it get 403."""
    if not (is_order_merchant(actor, order) or is_admin(actor)):
        raise Forbidden("Only the shop that sold this order can do that.")


def check_order_buyer(actor, order: Order) -> None:
    if actor.id != order.buyer_id:
        raise Forbidden("Only the buyer can change where an order goes.")


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


def release_held(order: Order, *, actor=None, **params) -> Order:
    """held -> paid when it was paid in advance (its holds are consumed), else held -> pending
    with a fresh payment window (its holds extended to it).

    For the feature that placed it held (a group-buy team filled). Raises
    Conflict(order_held/invalid_status) when the order is no longer held. Locks:
    the order, then its products in ascending id.
    """
    at = now()
    prepaid = _succeeded_payment(order) is not None
    deadline = at + payment_window()
    if prepaid:
        change_status(order, "paid", actor=actor, from_statuses=("held",), released=True, **params)
        order_values: dict[str, object] = {"expires_at": None}
    else:
        change_status(
            order,
            "pending",
            actor=actor,
            event_type="released",
            from_statuses=("held",),
            **params,
        )
        order_values = {"expires_at": deadline, "hold_limit_at": deadline}
        lock_products(item.product_id for item in order.items)
    update_row(order, **order_values)
    if not (consume_holds(order) if prepaid else extend_holds(order, deadline)):
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
        reference = providers.for_refund(order.payment_provider).refund(order, payment)
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


def _after_release(order: Order) -> None:
    db.session.execute(
        update(Payment)
        .where(Payment.order_id == order.id, Payment.status == "awaiting")
        .values(status="void", updated_at=now())
        .execution_options(synchronize_session=False)
    )
    touched = _release_order_holds(order)
    update_row(order, expires_at=None)
    db.session.refresh(order)
    _announce_stock(touched)
