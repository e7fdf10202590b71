"""Lowering an order's unit prices after it was placed, refunding what was paid too much.

An offer whose final price is known only later (a ladder group-buy: everyone pays the
lowest step the team reached) places its orders at the price of the moment and lowers
them when it settles. The order's lines and totals are rewritten in SQL, an
``OrderEvent`` (``price_lowered``) records the difference, and when the order was
already paid the difference goes back through the provider that took it, as a
``Payment`` row of status ``refunded`` for that amount (the partial-refund path).
Prices only ever go down here.
"""

from ...clock import now
from ...database import update_row
from ...errors import ValidationFailed
from ...extensions import db
from .. import payments as providers
from ..models import Order, Payment
from .lifecycle import _lock_order, _succeeded_payment, record_event

LOWERABLE = ("held", "pending", "paid")


def lower_prices(order: Order, unit_prices: dict[int, int], *, reason: str, actor=None) -> int:
    """Set lower ``unit_prices`` ({product_id: cents}) on ``order``; returns the cents refunded.

    Works on held, pending and paid orders (the order row is locked first). A price
    that is not lower than the line's is left alone. Raises ValidationFailed for a
    negative price. Returns 0 when nothing changed or nothing had been paid.
    """
    if any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in unit_prices.values()):
        raise ValidationFailed(fields={"unit_prices": ["Use whole cents, not negative."]})
    _lock_order(order)
    db.session.refresh(order)
    if order.status not in LOWERABLE:
        return 0
    difference = 0
    for item in order.items:
        price = unit_prices.get(item.product_id)
        if price is None or price >= item.unit_price_cents:
            continue
        difference += (item.unit_price_cents - price) * item.quantity
        update_row(item, unit_price_cents=price, line_total_cents=price * item.quantity)
    if difference <= 0:
        return 0
    difference = min(difference, order.total_cents)
    at = now()
    update_row(
        order,
        subtotal_cents=Order.subtotal_cents - difference,
        total_cents=Order.total_cents - difference,
        updated_at=at,
    )
    payment = _succeeded_payment(order)
    refunded = 0
    if payment is not None:
        reference = providers.for_refund(payment.provider).refund(order, payment)
        db.session.add(
            Payment(
                order_id=order.id,
                provider=payment.provider,
                status="refunded",
                amount_cents=difference,
                currency=order.currency,
                reference=payment.reference,
                refund_reference=reference or f"PART-{order.id}",
                created_at=at,
                updated_at=at,
            )
        )
        refunded = difference
    db.session.flush()
    db.session.expire(order)
    db.session.refresh(order)
    record_event(
        order,
        "price_lowered",
        actor=actor,
        reason=(reason or "")[:200],
        amount_cents=difference,
        refunded_cents=refunded,
    )
    return refunded
