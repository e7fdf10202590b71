"""Coupons: made by admins (site-wide) and merchants (their shop's goods), applied at
checkout as a price step, claimed with guarded statements when an order is placed, and
given back when the order ends without its goods being kept.

Every rule refuses with its code (shared/API.md, Members) and writes nothing:

- an unknown code: 422 ``unknown_coupon``;
- withdrawn, not yet valid, expired, another shop's goods, another currency, the wrong
  audience (tier, exact number of completed orders, segment), not a first order, below
  the minimum merchandise total: 409 ``coupon_not_eligible``;
- used up, or the member's own limit reached: 409 ``coupon_exhausted``.

Claiming (``claim``, on ``signals.order_priced``, before ``place_order`` reserves stock)::

    UPDATE coupons SET uses = uses + 1
     WHERE id = :id AND active AND (max_uses IS NULL OR uses < max_uses)

then the member's row the same way against ``per_user_limit``, then the redemption
row (unique per order). A coupon of N uses is used at most N times under any
concurrency; the CHECK ``uses <= max_uses`` is the second line of defence.

Releasing (``release``, on ``order_changed`` to ``cancelled`` or ``refunded``): the
redemption moves active -> released in one conditional UPDATE (so once), then both
counters go down. Cancelled and expired orders return the use. **A full refund returns
it too**: the member kept nothing the coupon paid for, and the coupon's figures count
discounts actually given. A partial refund keeps it (the order stands).

Lapsed orders: an unpaid order past its deadline can never be paid (``pay`` refuses it);
when a claim finds the coupon or the member at the limit, redemptions of such orders
are released on the spot, so availability never waits for the expiry job.

Lock order (PostgreSQL): redemption rows, then the coupon row, then members' rows. A
claim runs before the order's products are locked; a release runs inside the order's
status change (order row first), before its stock holds are released. So it is always
order -> redemption -> coupon -> member use -> products.
"""

import re
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ... import signals
from ...clock import now
from ...database import insert_ignore
from ...errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ...extensions import db
from ...money import format_minor, known_currency
from ...pagination import Page, decode, encode, keyset_page
from ...permissions import is_admin, is_member
from ...shop_embed import service as shop
from ...times import parse_time
from .models import AUDIENCES, KINDS, Coupon, CouponMemberUse, CouponRedemption

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
MAX_PERCENT_BP = 10_000
MAX_AMOUNT_CENTS = 100_000_000
MAX_USES = 1_000_000
MAX_PER_USER = 1_000
DEFAULT_CURRENCY = "USD"
RELEASING_STATUSES = ("cancelled", "refunded")
TIER_LABELS = {"registered": "newly registered", "shopper": "shopper", "vip": "VIP"}


# --- who may manage which coupon ------------------------------------------------------


def shop_of(user):
    """The merchant profile (the shop's Merchant) of ``user`` when they have the merchant
    role, else None."""
    if not is_member(user) or not user.has_role("merchant"):
        return None
    return shop.merchant_of(user)


def may_manage(viewer, coupon: Coupon) -> bool:
    """Admins manage every coupon; a merchant only their own shop's."""
    if is_admin(viewer):
        return True
    shop = shop_of(viewer)
    return shop is not None and coupon.merchant_id == shop.id


def normalise_code(raw) -> str | None:
    if not isinstance(raw, str):
        return None
    return raw.strip().upper() or None


# --- creating and reading -------------------------------------------------------------


def _int_in(fields: dict, name: str, value, low: int, high: int, *, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        fields[name] = [f"Use a whole number from {low:,} to {high:,}."]
        return None
    return value


def create_coupon(
    actor,
    *,
    code,
    kind,
    value,
    min_subtotal_cents=0,
    starts_at=None,
    ends_at=None,
    max_uses=None,
    per_user_limit=1,
    audience="all",
    completed_orders=None,
    first_order_only=False,
    currency=None,
    scope=None,
    segment_id=None,
) -> Coupon:
    """Create a coupon; returns it (flushed).

    ``scope`` "site" (admins only) or "shop" (the actor's own shop); by default an
    admin makes a site-wide coupon and a merchant a shop coupon. A shop coupon is in
    its shop's currency. Raises Forbidden (not an admin or merchant, no shop yet),
    ValidationFailed (fields) and Conflict ``code_taken``; writes nothing then.
    """
    if scope is None:
        scope = "site" if is_admin(actor) else "shop"
    if scope not in ("site", "shop"):
        raise field_error("scope", "Use site or shop.")
    merchant = None
    if scope == "site":
        if not is_admin(actor):
            raise Forbidden("Only an admin creates site-wide coupons.")
    else:
        if not is_member(actor) or not actor.has_role("merchant"):
            raise Forbidden("Only merchants and admins create coupons.")
        merchant = shop_of(actor)
        if merchant is None:
            raise Forbidden("Set up your shop before you create coupons.", code="no_shop")
    fields: dict[str, list[str]] = {}
    clean = normalise_code(code)
    if clean is None or not CODE_RE.match(clean):
        fields["code"] = ["Use 3-32 letters, digits, - or _ (starting with a letter or digit)."]
    if kind not in KINDS:
        fields["kind"] = ["Use percent or fixed."]
    elif kind == "percent":
        value = _int_in(fields, "value", value, 1, MAX_PERCENT_BP)
    else:
        value = _int_in(fields, "value", value, 1, MAX_AMOUNT_CENTS)
    min_subtotal_cents = _int_in(
        fields, "min_subtotal_cents", min_subtotal_cents, 0, MAX_AMOUNT_CENTS
    )
    max_uses = _int_in(fields, "max_uses", max_uses, 1, MAX_USES, allow_none=True)
    per_user_limit = _int_in(fields, "per_user_limit", per_user_limit, 1, MAX_PER_USER)
    completed_orders = _int_in(
        fields, "completed_orders", completed_orders, 0, 10_000, allow_none=True
    )
    if audience not in AUDIENCES:
        fields["audience"] = [f"Use one of {', '.join(AUDIENCES)}."]
    if segment_id is not None:
        _check_segment(fields, segment_id, site=merchant is None)
    if not isinstance(first_order_only, bool):
        fields["first_order_only"] = ["Use true or false."]
    elif first_order_only and completed_orders:
        fields["first_order_only"] = ["A first-order coupon cannot also ask for completed orders."]
    if merchant is not None:
        if currency not in (None, merchant.currency):
            fields["currency"] = [
                f"A shop coupon is in your shop's currency ({merchant.currency})."
            ]
        currency = merchant.currency
    elif currency is None:
        currency = DEFAULT_CURRENCY
    elif not known_currency(currency):
        fields["currency"] = ["Use an ISO 4217 code such as USD."]
    times: dict[str, datetime | None] = {}
    for name, raw in (("starts_at", starts_at), ("ends_at", ends_at)):
        try:
            times[name] = parse_time(name, raw, required=False)
        except ValidationFailed as err:
            fields.update(err.fields)
            times[name] = None
    start, end = times["starts_at"], times["ends_at"]
    if end is not None and end <= now():
        fields.setdefault("ends_at", []).append("The coupon must end in the future.")
    if start is not None and end is not None and end <= start:
        fields.setdefault("ends_at", []).append("The end must come after the start.")
    if fields:
        raise ValidationFailed(fields=fields)
    if db.session.scalar(select(Coupon.id).where(Coupon.code == clean)) is not None:
        raise _code_taken()
    coupon = Coupon(
        code=clean,
        merchant_id=merchant.id if merchant else None,
        created_by_id=actor.id,
        kind=kind,
        value=value,
        currency=currency,
        min_subtotal_cents=min_subtotal_cents,
        starts_at=start,
        ends_at=end,
        max_uses=max_uses,
        per_user_limit=per_user_limit,
        uses=0,
        audience=audience,
        completed_orders=completed_orders,
        first_order_only=first_order_only,
        segment_id=segment_id,
        active=True,
        created_at=now(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(coupon)
            db.session.flush()
    except IntegrityError:  # the same code created at the same moment
        raise _code_taken() from None
    return coupon


def _check_segment(fields: dict, segment_id, *, site: bool) -> None:
    """A segment audience: site coupons only (segments are the admin's), and it must exist."""
    if not site:
        fields["segment_id"] = ["Only site-wide coupons can be for a campaign segment."]
    elif isinstance(segment_id, bool) or not isinstance(segment_id, int):
        fields["segment_id"] = ["Use a segment's id."]
    elif segment_id not in segment_names([segment_id]):
        fields["segment_id"] = ["No such segment."]


def segment_names(ids: list[int] | None = None) -> dict[int, str]:
    """{id: name} of campaign segments (campaigns answers; ``None``: the newest 200)."""
    return signals.ask(signals.segment_names, "segment", ids=ids) or {}


def _code_taken() -> Conflict:
    return Conflict(
        "Another coupon already has this code.",
        code="code_taken",
        fields={"code": ["Already taken; choose another code."]},
    )


def get_coupon(viewer, code) -> Coupon:
    """The coupon with ``code`` if ``viewer`` manages it (admin, its merchant); else NotFound."""
    clean = normalise_code(code)
    coupon = db.session.scalar(select(Coupon).where(Coupon.code == clean)) if clean else None
    if coupon is None or not may_manage(viewer, coupon):
        raise NotFound("No such coupon.")
    return coupon


def list_coupons(viewer, *, scope: str | None = None, cursor=None, limit: int = 20) -> Page:
    """Coupons ``viewer`` manages, newest first: a merchant's own shop's; for an admin the
    site-wide ones (``scope`` "shop": every shop's). Forbidden for everyone else."""
    shop = shop_of(viewer)
    if scope not in (None, "site", "shop"):
        raise field_error("scope", "Use site or shop.")
    if is_admin(viewer) and (scope == "site" or (scope is None and shop is None)):
        query = select(Coupon).where(Coupon.merchant_id.is_(None))
    elif is_admin(viewer) and scope == "shop" and shop is None:
        query = select(Coupon).where(Coupon.merchant_id.is_not(None))
    elif shop is not None and scope in (None, "shop"):
        query = select(Coupon).where(Coupon.merchant_id == shop.id)
    else:
        raise Forbidden("Only merchants and admins manage coupons.")
    after = decode(cursor, 1)
    if after is not None:
        if not isinstance(after[0], int):
            raise field_error("cursor", "That cursor is not valid.")
        query = query.where(Coupon.id < after[0])
    rows = list(db.session.scalars(query.order_by(Coupon.id.desc()).limit(limit + 1)))
    return keyset_page(rows, limit, lambda last: encode([last.id]))


def set_active(viewer, code, active: bool) -> Coupon:
    """Withdraw (or bring back) a coupon; uses already claimed stand."""
    coupon = get_coupon(viewer, code)
    if not isinstance(active, bool):
        raise field_error("active", "Use true or false.")
    coupon.active = active
    db.session.flush()
    return coupon


def usage(coupon: Coupon) -> dict:
    """Figures for the coupon's page and API: live uses, given back, discounts, revenue."""
    by_state: dict[str, int] = dict(
        db.session.execute(
            select(CouponRedemption.state, func.count())
            .where(CouponRedemption.coupon_id == coupon.id)
            .group_by(CouponRedemption.state)
        )
        .tuples()
        .all()
    )
    live = (CouponRedemption.coupon_id == coupon.id, CouponRedemption.state == "active")
    discount = db.session.scalar(
        select(func.coalesce(func.sum(CouponRedemption.discount_cents), 0)).where(*live)
    )
    # One redemption per order (unique order_id), so the orders' sums are the join's.
    revenue, completed = shop.order_figures(select(CouponRedemption.order_id).where(*live))
    return {
        "uses": coupon.uses,
        "uses_left": coupon.uses_left,
        "released": int(by_state.get("released", 0)),
        "discount_cents": int(discount),
        "revenue_cents": int(revenue),
        "completed_orders": int(completed),
    }


def existing_code(code) -> str | None:
    """The coupon code as stored (normalised) when a coupon has it, else None: for
    features that carry a code (a campaign's merge field) and must not promise one that
    does not exist."""
    clean = normalise_code(code)
    if not clean:
        return None
    return db.session.scalar(select(Coupon.code).where(Coupon.code == clean))


def redemptions_by(code: str, user_ids, since: datetime | None = None) -> int:
    """Live uses of the coupon ``code`` by the members in ``user_ids`` (ids or a subquery
    of them) since ``since``: a campaign's report counts its coupon's uses by its
    recipients. 0 for an unknown code."""
    clean = normalise_code(code)
    if not clean:
        return 0
    statement = (
        select(func.count(CouponRedemption.id))
        .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
        .where(
            Coupon.code == clean,
            CouponRedemption.state == "active",
            CouponRedemption.user_id.in_(user_ids),
        )
    )
    if since is not None:
        statement = statement.where(CouponRedemption.created_at >= since)
    return int(db.session.scalar(statement) or 0)


def recent_redemptions(coupon: Coupon, limit: int = 50) -> list[tuple]:
    """The coupon's latest ``limit`` redemptions, newest first, each with its order (the
    shop's Order, read through its service)."""
    redemptions = list(
        db.session.scalars(
            select(CouponRedemption)
            .where(CouponRedemption.coupon_id == coupon.id)
            .order_by(CouponRedemption.id.desc())
            .limit(limit)
        )
    )
    orders = {o.id: o for o in shop.orders_with_ids([r.order_id for r in redemptions])}
    return [(r, orders[r.order_id]) for r in redemptions]


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


def coupon_facts(coupon_id: int) -> dict | None:
    """What insight's evaluation needs of one coupon: its owner (the shop's merchant user
    id, None for a site coupon), code, start, its live uses as ``SELECT user_id, at``
    and the discount they gave; None if unknown."""
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None:
        return None
    live = (CouponRedemption.coupon_id == coupon.id, CouponRedemption.state == "active")
    discount = db.session.scalar(
        select(func.coalesce(func.sum(CouponRedemption.discount_cents), 0)).where(*live)
    )
    return {
        "merchant_user_id": coupon.merchant.user_id if coupon.merchant is not None else None,
        "code": coupon.code,
        "label": f"Coupon: {coupon.code}",
        "starts_at": coupon.starts_at or coupon.created_at,
        "participants": select(
            CouponRedemption.user_id.label("user_id"), CouponRedemption.created_at.label("at")
        ).where(*live),
        "discount_cents": int(discount or 0),
        # Every use, released ones too: the ledgers net their own give-backs.
        "orders": select(CouponRedemption.order_id.label("order_id")).where(
            CouponRedemption.coupon_id == coupon.id
        ),
    }


def coupon_discount_by(code: str, user_ids) -> int:
    """The discount the live uses of ``code`` by the members in ``user_ids`` gave."""
    clean = normalise_code(code)
    if not clean:
        return 0
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(CouponRedemption.discount_cents), 0))
            .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
            .where(
                Coupon.code == clean,
                CouponRedemption.state == "active",
                CouponRedemption.user_id.in_(user_ids),
            )
        )
        or 0
    )


def coupon_orders_by(code: str, user_ids) -> Select:
    """``SELECT order_id`` of the orders the members in ``user_ids`` used ``code`` on (a
    campaign's coupon, for insight's costs); no rows for an unknown code."""
    return (
        select(CouponRedemption.order_id.label("order_id"))
        .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
        .where(Coupon.code == normalise_code(code), CouponRedemption.user_id.in_(user_ids))
    )


def coupons_of(merchant_user_id: int | None, limit: int = 200) -> list[tuple[int, str, int | None]]:
    """(id, code, merchant user id: None for a site coupon) of a merchant's coupons
    (every coupon for None), newest first."""
    statement = (
        select(Coupon)
        .options(selectinload(Coupon.merchant))
        .order_by(Coupon.id.desc())
        .limit(limit)
    )
    if merchant_user_id is not None:
        statement = statement.where(Coupon.merchant_id.in_(shop.merchant_ids_of(merchant_user_id)))
    return [
        (coupon.id, coupon.code, coupon.merchant.user_id if coupon.merchant else None)
        for coupon in db.session.scalars(statement)
    ]
