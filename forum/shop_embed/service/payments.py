"""Paying and refunding: the provider is asked, the holds are consumed or given back.

Paying consumes only the order's own holds (product by product, ascending) and locks
nothing after them (see the lock order in the package docstring).
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update

from ...clock import now
from ...database import prepared, update_row
from ...errors import Conflict, Forbidden, field_error
from ...extensions import db
from .. import payments as providers
from ..models import Order, Payment
from .common import PAID_STATUSES
from .fulfilment import check_order_merchant
from .lifecycle import (
    TRANSITIONS,
    _expired_by_deadline,
    _lock_order,
    _succeeded_payment,
    change_status,
    check_ships_somewhere,
    record_event,
)
from .orders import with_merchant_and_lines
from .stock import _announce_stock, _release_order_holds, consume_holds, extend_holds


def _settle_paid(
    order: Order, actor, provider: str, reference: str, payment: Payment | None
) -> Order:
    """pending -> paid: consume every hold of the order or refuse (some expired and were released)."""
    change_status(
        order,
        "paid",
        actor=actor,
        live_only=True,
        also={"payment_provider": provider, "expires_at": None},
        provider=provider,
        reference=reference,
    )
    if not consume_holds(order):
        # A buyer took units of a hold that had expired: this payment cannot stand.
        raise Conflict("The time to pay this order has run out.", code="order_expired")
    at = now()
    if payment is None:
        db.session.execute(_void_awaiting(), {"void_order_id": order.id, "void_at": at})
        payment = Payment(
            order_id=order.id,
            provider=provider,
            amount_cents=order.total_cents,
            currency=order.currency,
            created_at=at,
        )
        db.session.add(payment)
    payment.status, payment.reference, payment.updated_at = "succeeded", reference, at
    db.session.flush()
    return order


@prepared
def _void_awaiting():
    """An offline payment the buyer started is void once they pay another way."""
    return (
        update(Payment)
        .where(Payment.order_id == bindparam("void_order_id"), Payment.status == "awaiting")
        .values(status="void", updated_at=bindparam("void_at"))
        .execution_options(synchronize_session=False)
    )


def pay(actor, order: Order, provider_name) -> Order:
    """The buyer pays with ``provider_name``.

    ``sandbox`` pays at once (-> paid). ``offline`` records that the buyer will pay
    outside Plaza: the order stays pending, its holds are extended to the
    offline window, and the merchant marks it paid. Raises Forbidden (not the
    buyer), ValidationFailed (unknown/unavailable provider), Conflict
    (already_paid, order_expired, invalid_status).
    """
    with_merchant_and_lines(order)  # one statement for what paying reads, if not loaded
    if actor.id != order.buyer_id:
        raise Forbidden("Only the buyer can pay this order.")
    provider = providers.provider_named(provider_name, merchant=order.merchant)
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
    if charge.status == "declined":
        raise Conflict("The payment was declined; nothing was charged.", code="payment_declined")
    if charge.status == "succeeded":
        return _settle_paid(order, actor, provider.name, charge.reference, None)
    return _await_offline(actor, order, provider.name, charge.reference)


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
    update_row(order, payment_provider=provider.name, updated_at=at)
    db.session.flush()
    db.session.refresh(order)
    record_event(order, "prepaid", actor=actor, provider=provider.name, reference=charge.reference)
    return order


def _await_offline(actor, order: Order, provider: str, reference: str) -> Order:
    existing = db.session.scalar(
        select(Payment).where(Payment.order_id == order.id, Payment.status == "awaiting")
    )
    if existing is not None and existing.provider == provider:
        return order  # asking twice changes nothing
    at = now()
    deadline = at + timedelta(hours=int(current_app.config["ORDER_OFFLINE_PAYMENT_WINDOW_HOURS"]))
    if order.hold_limit_at is not None:  # an offer's own window: never past it
        deadline = min(deadline, order.hold_limit_at)
    moved = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == "pending", Order.expires_at > at)
        .values(expires_at=deadline, payment_provider=provider, updated_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1 or not extend_holds(order, deadline, only_live=True):
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


def refund(actor, order: Order, *, reason: str = "", amount_cents: int | None = None) -> Order:
    """Give money back: the whole remaining amount (-> refunded, stock returns) or a part.

    Its merchant or an admin only; a completed order within ``RETURN_WINDOW_DAYS`` of
    completion (Conflict ``return_window_closed`` after). ``amount_cents`` below what is
    left is a partial refund: the order keeps its status, ``refunded_cents`` grows in
    one conditional UPDATE (two refunds never give back more than was paid) and a
    ``partially_refunded`` event carries the amount, so members (rebate, credit,
    points) and attribution can reverse their share in proportion. Commission is
    reversed by attribution's listener on the ``refunded`` event, in this transaction.
    """
    check_order_merchant(actor, order)
    if order.status not in TRANSITIONS["refunded"]:
        raise Conflict(
            f"This order is {order.status}; only paid orders can be refunded.",
            code="invalid_status",
            fields={"status": [order.status]},
        )
    window = timedelta(days=int(current_app.config["RETURN_WINDOW_DAYS"]))
    if order.status == "completed" and order.completed_at and order.completed_at + window < now():
        raise Conflict("The return window of this order has closed.", code="return_window_closed")
    left = order.total_cents - (order.refunded_cents or 0)
    if amount_cents is not None and (
        isinstance(amount_cents, bool)
        or not isinstance(amount_cents, int)
        or not 0 < amount_cents <= left
    ):
        raise field_error("amount_cents", f"Refund from 1 to {left} cents.")
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.status == "succeeded")
        .order_by(Payment.id.desc())
    )
    if amount_cents is not None and amount_cents < left:
        return _refund_part(actor, order, amount_cents, payment, reason)
    # The state moves first (one conditional UPDATE), so two refunds can never both
    # pay out; if the provider then refuses, its error rolls the whole change back.
    change_status(
        order,
        "refunded",
        actor=actor,
        reason=(reason or "")[:200],
        amount_cents=left,
        conditions=(Order.refunded_cents == order.refunded_cents,),
    )
    update_row(order, refunded_cents=Order.total_cents)
    refund_reference = providers.for_refund(order.payment_provider).refund(order, payment)
    touched = _release_order_holds(order, states=("consumed",), to_state="released")
    if payment is not None:
        payment.status, payment.refund_reference, payment.updated_at = (
            "refunded",
            refund_reference,
            now(),
        )
    db.session.flush()
    db.session.refresh(order)
    _announce_stock(touched)
    return order


def _refund_part(actor, order: Order, amount: int, payment, reason: str) -> Order:
    moved = db.session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.status.in_(TRANSITIONS["refunded"]),
            Order.refunded_cents + amount < Order.total_cents,
        )
        .values(refunded_cents=Order.refunded_cents + amount, updated_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict("This order changed meanwhile; reload it.", code="invalid_status")
    reference = providers.for_refund(order.payment_provider).refund(order, payment)
    db.session.refresh(order)
    record_event(
        order,
        "partially_refunded",
        actor=actor,
        reason=(reason or "")[:200],
        amount_cents=amount,
        refunded_cents=order.refunded_cents,
        reference=reference,
    )
    return order
