"""VIP perks, audiences, store credit and points in the one checkout, and what orders do to them.

Price steps (added to the shop's ``PRICE_STEPS`` by ``members.init_app``), so the page,
the API, snap-ups and group-buys get them alike:

- ``check_audience``: a product's (or the offer's, ``choices["audience"]``) audience;
  anyone below it is refused (Forbidden ``tier_required``) with how to get there;
- ``vip_free_shipping`` (after the shop's shipping): the fee waived for VIPs, unless a
  line's product is ``free_shipping_excluded``;
- ``vip_rebate``: the rebate this order will earn (``rebate_bp`` of the merchandise
  after discounts, never of shipping), shown and stored; credited on completion;
- ``spend_credit`` / ``spend_points``: ``use_credit_cents`` / ``use_points``, at most
  what is left to pay; more than the member has is Conflict ``insufficient_credit`` /
  ``insufficient_points``.

Order receivers (``signals.order_changed``): ``placed`` takes the credit and points
with the guarded ledger (a racing checkout that finds the balance gone is refused,
and its order rolled back); ``paid`` records the free-freight perk; ``completed``
starts the rebate's lock, awards order points and re-evaluates the tier;
``cancelled``/``expired`` give credit and points back; ``refunded`` and
``partially_refunded`` give them back and reverse the rebate, the order's points and
the perk rows in proportion, then re-evaluate the tier.
"""

from datetime import timedelta

from sqlalchemy import func, select, update

from ...clock import now
from ...errors import Conflict, Forbidden, field_error
from ...extensions import db
from ...shop_embed import service as shop
from ..coupons.service import coupon_step
from ..models import LedgerEntry, PerkGrant, Rebate
from . import points as points_service
from .ledger import available_credit, available_points, post, settle, take_back
from .rules import rebate_lock_days, rules
from .tiers import LABELS, current_tier, evaluate, how_to_reach, meets

# --- price steps -------------------------------------------------------------------


def _tier(priced, buyer) -> str:
    # One evaluation per quote: every step below asks.
    memo = priced.choices.setdefault("_members", {})
    if "tier" not in memo:
        memo["tier"] = current_tier(buyer)
    return memo["tier"]


def check_audience(priced, buyer):
    tier = _tier(priced, buyer)
    needed = [priced.choices.get("audience") or "all"]
    needed += [line.product.audience or "all" for line in priced.lines]
    for audience in needed:
        if not meets(tier, audience):
            raise Forbidden(
                f"This offer is for {LABELS[audience]} members. {how_to_reach(audience, buyer)}",
                code="tier_required",
                fields={"audience": [audience]},
            )
    return None


def vip_free_shipping(priced, buyer):
    fee = priced.shipping_cents
    if fee <= 0 or _tier(priced, buyer) != "vip" or not rules().vip_free_shipping:
        return None
    excluded = [line.name for line in priced.lines if line.product.free_shipping_excluded]
    if excluded:
        return shop.Adjustment(
            "shipping",
            f"VIP free shipping does not cover {', '.join(excluded)}",
            0,
            {"perk_excluded": 1},
        )
    return shop.Adjustment("shipping", "VIP free shipping", -fee, {"free_shipping_cents": fee})


def merchandise_cents(priced) -> int:
    """The merchandise total after discounts (the rebate's base; shipping never counts)."""
    return priced.subtotal_cents + sum(
        a.amount_cents for a in priced.adjustments if a.kind not in shop.NOT_DISCOUNTS
    )


def vip_rebate(priced, buyer):
    bp = rules().vip_rebate_bp
    if not bp or _tier(priced, buyer) != "vip":
        return None
    cents = max(merchandise_cents(priced), 0) * bp // 10_000
    if cents <= 0:
        return None
    days = rebate_lock_days()
    when = f"{days} days after completion" if days else "on completion"
    return shop.Adjustment(
        "rebate",
        f"VIP rebate {bp / 100:g}%: store credit {when}",
        0,
        {"rebate_cents": cents, "rebate_bp": bp},
    )


def _wanted(priced, buyer, name: str, available, code: str, refusal: str, have: str) -> int:
    """How much the checkout choice ``name`` asks to use (0: none). ValidationFailed unless a
    whole number >= 0; Conflict ``code`` when more than ``available`` says the buyer has
    (``refusal``; ``have`` says what they do have, on the field)."""
    value = priced.choices.get(name) or 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise field_error(name, "Use a whole number of 0 or more.")
    held = available(buyer.id) if buyer is not None and value else 0
    if value > held:
        raise Conflict(refusal, code=code, fields={name: [have.format(held)]})
    return value


def spend_credit(priced, buyer):
    want = _wanted(
        priced,
        buyer,
        "use_credit_cents",
        available_credit,
        "insufficient_credit",
        "You do not have that much store credit.",
        "You have {} cents of store credit.",
    )
    if not want:
        return None
    use = min(want, max(priced.total_cents, 0))
    return shop.Adjustment("credit", "Store credit", -use) if use else None


def spend_points(priced, buyer):
    want = _wanted(
        priced,
        buyer,
        "use_points",
        available_points,
        "insufficient_points",
        "You do not have that many points.",
        "You have {} points.",
    )
    if not want:
        return None
    rate = rules().points_per_unit  # points worth 1.00 (100 minor units)
    use = min(want, max(priced.total_cents, 0) * rate // 100)
    value = use * 100 // rate
    if value <= 0:
        return None
    use = -(-value * rate // 100)  # the fewest points worth ``value``
    return shop.Adjustment("points", f"{use:,} points", -value, {"points": use})


# The steps and where they go: the audience first, free freight right after the shop's
# shipping, the rebate and the tenders last.
FIRST_STEPS = (check_audience,)
AFTER_SHIPPING = (vip_free_shipping,)
LAST_STEPS = (vip_rebate, spend_credit, spend_points)


def add_price_steps(steps: list) -> None:
    """Put the members' steps in the shop's list (idempotent; many apps share it)."""
    if check_audience in steps:
        return
    steps.insert(0, check_audience)
    shipping = next((n for n, s in enumerate(steps) if s.__name__ == "_shipping"), len(steps) - 1)
    steps.insert(shipping + 1, vip_free_shipping)
    # A coupon discounts the merchandise before the rebate is reckoned and before credit
    # and points pay what is left.
    steps.insert(shipping + 2, coupon_step)
    steps.extend(LAST_STEPS)


# --- orders ---------------------------------------------------------------------------


def on_order_changed(order, *, event, **_) -> None:
    handler = HANDLERS.get(event.type) or (_returned if event.to_status == "cancelled" else None)
    if handler is not None:
        handler(order, event)


# Paying with an account whose balance ran out between the price and the order: the
# message, the error code, and the form field it is about.
_SPENT_MEANWHILE = {
    "credit": (
        "Your store credit was spent meanwhile; nothing was charged.",
        "insufficient_credit",
        {"use_credit_cents": ["Not enough store credit now."]},
    ),
    "points": (
        "Your points were spent meanwhile; nothing was charged.",
        "insufficient_points",
        {"use_points": ["Not enough points now."]},
    ),
}


def _placed(order, event) -> None:
    spends = {"credit": order.credit_used_cents, "points": order.points_used}
    if not any(spends.values()):
        return
    settle(order.buyer_id)
    for account, amount in spends.items():
        if not amount:
            continue
        try:
            post(
                order.buyer_id,
                account,
                -amount,
                "order_payment",
                key=f"spend-{account}:{order.id}",
                order_id=order.id,
            )
        except Conflict:
            message, code, fields = _SPENT_MEANWHILE[account]
            raise Conflict(message, code=code, fields=fields) from None


def _grant(order, perk: str, amount: int, key: str, funded_by: str | None = None) -> None:
    if not amount:
        return
    if db.session.scalar(select(PerkGrant.id).where(PerkGrant.key == key)) is not None:
        return
    r = rules()
    db.session.add(
        PerkGrant(
            user_id=order.buyer_id,
            order_id=order.id,
            merchant_id=order.merchant_id,
            perk=perk,
            amount_cents=amount,
            currency=order.currency,
            funded_by=funded_by
            or (r.free_shipping_funded_by if perk == "free_shipping" else r.rebate_funded_by),
            key=key,
            created_at=now(),
        )
    )
    db.session.flush()


def _paid(order, event) -> None:
    _grant(
        order,
        "free_shipping",
        order.adjustment_info("free_shipping_cents"),
        f"free_shipping:{order.id}",
    )


def _kept_share(order) -> tuple[int, int]:
    """(kept, whole) of what was paid in money after partial refunds."""
    whole = order.total_cents
    return (whole - (order.refunded_cents or 0), whole) if whole else (1, 1)


def _completed(order, event) -> None:
    kept, whole = _kept_share(order)
    rebate = order.rebate_cents * kept // whole
    if (
        rebate > 0
        and db.session.scalar(select(Rebate.id).where(Rebate.order_id == order.id)) is None
    ):
        at = now()
        db.session.add(
            Rebate(
                user_id=order.buyer_id,
                order_id=order.id,
                amount_cents=rebate,
                reversed_cents=0,
                currency=order.currency,
                available_at=(order.completed_at or at) + timedelta(days=rebate_lock_days()),
                created_at=at,
            )
        )
        db.session.flush()
        _grant(order, "rebate", rebate, f"rebate:{order.id}")
        if rebate_lock_days() == 0:
            settle(order.buyer_id)
    merchandise = max(order.subtotal_cents - order.discount_cents, 0) * kept // whole
    points_service.award(
        order.buyer_id, "order", key=str(order.id), units=merchandise // 100, order_id=order.id
    )
    evaluate(order.buyer, reason="order_completed", order_id=order.id)


def _returned_so_far(order_id: int, account: str) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.order_id == order_id,
                LedgerEntry.account == account,
                LedgerEntry.reason == "order_payment_returned",
            )
        )
        or 0
    )


def _give_back(order, event, share: tuple[int, int] | None) -> None:
    """Return spent credit and points: all that is left, or ``share`` of what was spent."""
    for account, spent in (("credit", order.credit_used_cents), ("points", order.points_used)):
        if not spent:
            continue
        done = _returned_so_far(order.id, account)
        amount = spent - done if share is None else min(spent * share[0] // share[1], spent - done)
        if amount > 0:
            post(
                order.buyer_id,
                account,
                amount,
                "order_payment_returned",
                key=f"return-{account}:{order.id}:{event.id}",
                order_id=order.id,
            )


def _lock_order_products(order) -> None:
    # Lock order: products before a member's wallet, as placing an order takes them.
    shop.lock_products(sorted(item.product_id for item in order.items))


def _returned(order, event) -> None:
    """Cancelled or expired (never paid): everything spent comes back."""
    if order.credit_used_cents or order.points_used:
        _lock_order_products(order)
        _give_back(order, event, None)


def _reverse_rebate(order, event, share: tuple[int, int] | None) -> None:
    rebate = db.session.scalar(select(Rebate).where(Rebate.order_id == order.id))
    if rebate is None:
        return
    left = rebate.amount_cents - rebate.reversed_cents
    amount = left if share is None else min(rebate.amount_cents * share[0] // share[1], left)
    if amount <= 0:
        return
    moved = db.session.execute(
        update(Rebate)
        .where(Rebate.id == rebate.id, Rebate.reversed_cents + amount <= Rebate.amount_cents)
        .values(reversed_cents=Rebate.reversed_cents + amount)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        return
    db.session.refresh(rebate)
    _grant(
        order,
        "rebate",
        -amount,
        f"rebate-reversed:{order.id}:{event.id}",
        funded_by=_funder(order.id, "rebate"),
    )
    if rebate.released_at is not None:
        take_back(
            order.buyer_id,
            "credit",
            amount,
            "vip_rebate_reversed",
            key=f"rebate-reversed:{order.id}:{event.id}",
            order_id=order.id,
        )


def _funder(order_id: int, perk: str) -> str:
    found = db.session.scalar(
        select(PerkGrant.funded_by).where(PerkGrant.order_id == order_id, PerkGrant.perk == perk)
    )
    return found or "site"


def _refunded(order, event) -> None:
    amount = int((event.params or {}).get("amount_cents") or 0)
    partial = event.type == "partially_refunded"
    whole = order.total_cents
    share = (amount, whole) if partial and whole else None
    _lock_order_products(order)
    _give_back(order, event, share)
    _reverse_rebate(order, event, share)
    points_service.reverse(str(order.id), rule="order", share=share, step=str(event.id))
    if not partial and order.shipped_at is None:
        waived = order.adjustment_info("free_shipping_cents")
        if waived and db.session.scalar(
            select(PerkGrant.id).where(PerkGrant.key == f"free_shipping:{order.id}")
        ):
            _grant(
                order,
                "free_shipping",
                -waived,
                f"free_shipping-reversed:{order.id}",
                funded_by=_funder(order.id, "free_shipping"),
            )
    evaluate(order.buyer, reason="order_refunded", order_id=order.id)


HANDLERS = {
    "placed": _placed,
    "paid": _paid,
    "completed": _completed,
    "refunded": _refunded,
    "partially_refunded": _refunded,
}


def order_rebate(order) -> Rebate | None:
    return db.session.scalar(select(Rebate).where(Rebate.order_id == order.id))
