"""Making, reading and withdrawing coupons, and their usage figures."""

from datetime import datetime

from sqlalchemy import func, select

from .... import signals
from ....clock import now
from ....database import add_unique
from ....errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ....extensions import db
from ....money import known_currency
from ....pagination import Page, decode, encode, keyset_page
from ....permissions import is_admin, is_member
from ....shop_embed import service as shop
from ....times import parse_time
from ..models import AUDIENCES, KINDS, Coupon, CouponRedemption
from .common import (
    CODE_RE,
    DEFAULT_CURRENCY,
    MAX_AMOUNT_CENTS,
    MAX_PER_USER,
    MAX_PERCENT_BP,
    MAX_USES,
    may_manage,
    normalise_code,
    shop_of,
)

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
    if not add_unique(coupon):  # the same code created at the same moment
        raise _code_taken()
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
