"""The checkout rules (``check_coupon``, the ``coupon_step`` price step) and the guarded
claim and release on the order's signals (lock order: see the package's docstring)."""

from sqlalchemy import func, select, update

from .... import signals
from ....clock import now
from ....database import insert_ignore
from ....errors import Conflict, ValidationFailed
from ....extensions import db
from ....money import format_minor
from ....permissions import is_member
from ....shop_embed import service as shop
from ..models import Coupon, CouponMemberUse, CouponRedemption
from .common import MAX_PERCENT_BP, RELEASING_STATUSES, TIER_LABELS, normalise_code

# --- the checkout rules ---------------------------------------------------------------


def _not_eligible(message: str) -> Conflict:
    return Conflict(message, code="coupon_not_eligible", fields={"coupon_code": [message]})


def _exhausted(message: str) -> Conflict:
    return Conflict(message, code="coupon_exhausted", fields={"coupon_code": [message]})


def _live_uses(coupon: Coupon, user_id: int | None = None) -> int:
    """Uses that still count (read-only): the counter minus redemptions of lapsed orders
    (unpaid past their deadline, never payable: the shop's ``overdue_order_ids``, a
    ``select()`` of ids composed into this count)."""
    query = select(func.count()).where(
        CouponRedemption.coupon_id == coupon.id,
        CouponRedemption.state == "active",
        CouponRedemption.order_id.in_(shop.overdue_order_ids()),
    )
    if user_id is None:
        return coupon.uses - db.session.scalar(query)
    mine = db.session.scalar(
        select(CouponMemberUse.uses).where(
            CouponMemberUse.coupon_id == coupon.id, CouponMemberUse.user_id == user_id
        )
    )
    return (mine or 0) - db.session.scalar(query.where(CouponRedemption.user_id == user_id))


def check_coupon(code: str, buyer, priced, *, order_id: int | None = None) -> Coupon:
    """The coupon ``code`` if ``buyer`` may use it on ``priced`` (a PriceQuote) now.

    Read-only. Raises ValidationFailed ``unknown_coupon``, Conflict
    ``coupon_not_eligible`` or ``coupon_exhausted``, each with a message that says which
    rule refused (also under ``fields["coupon_code"]``). ``order_id``: the order being
    placed, not counted as an earlier order.
    """
    coupon = db.session.scalar(select(Coupon).where(Coupon.code == code))
    if coupon is None:
        message = f"No coupon has the code {code[:32]}."
        raise ValidationFailed(message, code="unknown_coupon", fields={"coupon_code": [message]})
    if not is_member(buyer):
        raise _not_eligible("Log in to use a coupon.")
    if not coupon.active:
        raise _not_eligible("This coupon has been withdrawn.")
    at = now()
    if coupon.starts_at is not None and at < coupon.starts_at:
        raise _not_eligible(f"This coupon is valid from {coupon.starts_at:%Y-%m-%d %H:%M} UTC.")
    if coupon.ends_at is not None and at >= coupon.ends_at:
        raise _not_eligible(f"This coupon expired on {coupon.ends_at:%Y-%m-%d %H:%M} UTC.")
    if coupon.merchant_id is not None and coupon.merchant_id != priced.merchant.id:
        raise _not_eligible(f"This coupon is for goods from {coupon.merchant.name} only.")
    if (coupon.kind == "fixed" or coupon.min_subtotal_cents) and priced.currency != coupon.currency:
        raise _not_eligible(f"This coupon is for orders in {coupon.currency}.")
    if coupon.audience != "all" and buyer.tier != coupon.audience:
        raise _not_eligible(f"This coupon is for {TIER_LABELS[coupon.audience]} members only.")
    if coupon.completed_orders is not None:
        have = shop.completed_order_count(buyer.id)
        if have != coupon.completed_orders:
            wanted = coupon.completed_orders
            raise _not_eligible(
                f"This coupon is for members with exactly {wanted} completed "
                f"order{'s' if wanted != 1 else ''}; you have {have}."
            )
    if coupon.segment_id is not None and not signals.ask(
        signals.in_segment, "segment", segment_id=coupon.segment_id, user=buyer
    ):
        raise _not_eligible("This coupon is for selected members only.")
    if coupon.first_order_only and shop.has_ordered(buyer.id, except_order_id=order_id):
        raise _not_eligible("This coupon is for a first order only.")
    if priced.subtotal_cents < coupon.min_subtotal_cents:
        minimum = format_minor(coupon.min_subtotal_cents, coupon.currency)
        raise _not_eligible(f"This coupon needs a merchandise total of at least {minimum}.")
    if coupon.max_uses is not None and _live_uses(coupon) >= coupon.max_uses:
        raise _exhausted("This coupon has been used up.")
    if _live_uses(coupon, buyer.id) >= coupon.per_user_limit:
        raise _exhausted(_member_limit_message(coupon))
    return coupon


def _member_limit_message(coupon: Coupon) -> str:
    if coupon.per_user_limit == 1:
        return "You have already used this coupon."
    return f"You have already used this coupon {coupon.per_user_limit} times, its limit."


def discount_for(coupon: Coupon, subtotal_cents: int) -> int:
    """The discount on ``subtotal_cents`` of merchandise (never of shipping), rounded down,
    never more than the merchandise."""
    if coupon.kind == "percent":
        return subtotal_cents * coupon.value // MAX_PERCENT_BP
    return min(coupon.value, subtotal_cents)


def coupon_label(coupon: Coupon) -> str:
    if coupon.kind == "percent":
        percent = f"{coupon.value / 100:g}"
        return f"Coupon {coupon.code} (−{percent}%)"
    return f"Coupon {coupon.code}"


def coupon_step(priced, buyer):
    """The price step (``shop_embed.service.pricing.PRICE_STEPS``): the discount of the
    buyer's ``choices["coupon_code"]``, or None without one. Refuses as ``check_coupon``."""
    code = normalise_code(priced.choices.get("coupon_code"))
    if code is None:
        return None
    coupon = check_coupon(code, buyer, priced)
    return shop.Adjustment(
        "coupon",
        coupon_label(coupon),
        -discount_for(coupon, priced.subtotal_cents),
        info={"coupon_id": coupon.id, "code": coupon.code},
    )


# --- claiming and giving back ---------------------------------------------------------


def claim(order, quote=None, buyer=None, **_) -> None:
    """Receiver of ``signals.order_priced``: take one use of the order's coupon.

    Before the guarded statements it runs the rules again with the order excluded
    (the buyer's order lock is held now, so "first order" is exact). Raises Conflict
    ``coupon_exhausted`` when the coupon or the member's allowance is used up, and the
    order is refused; on success the coupon's and the member's counters have moved
    and the redemption row is written, all in the order's transaction.
    """
    adjustment = next((a for a in (quote.adjustments if quote else ()) if a.kind == "coupon"), None)
    if adjustment is None:
        return
    coupon = check_coupon(adjustment.info["code"], buyer, quote, order_id=order.id)
    db.session.refresh(coupon, ["uses"])
    at_limit = coupon.max_uses is not None and coupon.uses >= coupon.max_uses
    mine = db.session.scalar(
        select(CouponMemberUse.uses).where(
            CouponMemberUse.coupon_id == coupon.id, CouponMemberUse.user_id == buyer.id
        )
    )
    if at_limit or (mine or 0) >= coupon.per_user_limit:
        # Only lapsed orders' uses (check_coupon counted them out) stand in the way.
        # The shop's rule arrives as a select() of ids, so this stays one UPDATE.
        _release_where(
            CouponRedemption.coupon_id == coupon.id,
            CouponRedemption.order_id.in_(shop.overdue_order_ids()),
            reason="lapsed",
        )
    taken = db.session.execute(
        update(Coupon)
        .where(
            Coupon.id == coupon.id,
            Coupon.active.is_(True),
            Coupon.max_uses.is_(None) | (Coupon.uses < Coupon.max_uses),
        )
        .values(uses=Coupon.uses + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise _exhausted("This coupon has been used up.")
    db.session.execute(
        insert_ignore(CouponMemberUse, {"coupon_id": coupon.id, "user_id": buyer.id, "uses": 0})
    )
    mine_taken = db.session.execute(
        update(CouponMemberUse)
        .where(
            CouponMemberUse.coupon_id == coupon.id,
            CouponMemberUse.user_id == buyer.id,
            CouponMemberUse.uses < coupon.per_user_limit,
        )
        .values(uses=CouponMemberUse.uses + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if mine_taken != 1:
        raise _exhausted(_member_limit_message(coupon))
    db.session.add(
        CouponRedemption(
            coupon_id=coupon.id,
            order_id=order.id,
            user_id=buyer.id,
            discount_cents=-adjustment.amount_cents,
            currency=order.currency,
            state="active",
            created_at=now(),
        )
    )
    db.session.flush()
    db.session.expire(coupon)


def release(order, event=None, **_) -> None:
    """Receiver of ``signals.order_changed``: give the coupon use back when the order is
    cancelled (by the buyer, the merchant or its deadline) or fully refunded."""
    if event is None or event.to_status not in RELEASING_STATUSES:
        return
    _release_where(CouponRedemption.order_id == order.id, reason=event.type[:16])


def _release_where(*conditions, reason: str) -> int:
    """Release the active redemptions matching ``conditions``; returns how many.

    Each row moves active -> released once (a conditional UPDATE), then the coupon's
    and the members' counters go down by what was released, coupons before members,
    each in ascending id.
    """
    at = now()
    released = db.session.execute(
        update(CouponRedemption)
        .where(CouponRedemption.state == "active", *conditions)
        .values(state="released", released_at=at, release_reason=reason)
        .returning(CouponRedemption.coupon_id, CouponRedemption.user_id)
        .execution_options(synchronize_session=False)
    ).all()
    per_coupon: dict[int, int] = {}
    per_member: dict[tuple[int, int], int] = {}
    for coupon_id, user_id in released:
        per_coupon[coupon_id] = per_coupon.get(coupon_id, 0) + 1
        per_member[(coupon_id, user_id)] = per_member.get((coupon_id, user_id), 0) + 1
    for coupon_id, count in sorted(per_coupon.items()):
        db.session.execute(
            update(Coupon)
            .where(Coupon.id == coupon_id, Coupon.uses >= count)
            .values(uses=Coupon.uses - count)
            .execution_options(synchronize_session=False)
        )
    for (coupon_id, user_id), count in sorted(per_member.items()):
        db.session.execute(
            update(CouponMemberUse)
            .where(
                CouponMemberUse.coupon_id == coupon_id,
                CouponMemberUse.user_id == user_id,
                CouponMemberUse.uses >= count,
            )
            .values(uses=CouponMemberUse.uses - count)
            .execution_options(synchronize_session=False)
        )
    if released:
        for coupon in db.session.scalars(select(Coupon).where(Coupon.id.in_(per_coupon))):
            db.session.expire(coupon)
    return len(released)
