"""Coupons (the front; ``common``: limits and who manages, ``manage``: making and
reading, ``checkout``: the rules, claim and release, ``facts``: what others ask): made by admins (site-wide) and merchants (their shop's goods), applied at
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

from .checkout import (
    check_coupon,
    claim,
    coupon_label,
    coupon_step,
    discount_for,
    release,
)
from .common import (
    RELEASING_STATUSES,
    TIER_LABELS,
    may_manage,
    normalise_code,
    shop_of,
)
from .facts import (
    coupon_discount_by,
    coupon_facts,
    coupon_orders_by,
    coupons_of,
)
from .manage import (
    create_coupon,
    existing_code,
    get_coupon,
    list_coupons,
    recent_redemptions,
    redemptions_by,
    segment_names,
    set_active,
    usage,
)

__all__ = [
    "RELEASING_STATUSES",
    "TIER_LABELS",
    "check_coupon",
    "claim",
    "coupon_discount_by",
    "coupon_facts",
    "coupon_label",
    "coupon_orders_by",
    "coupon_step",
    "coupons_of",
    "create_coupon",
    "discount_for",
    "existing_code",
    "get_coupon",
    "list_coupons",
    "may_manage",
    "normalise_code",
    "recent_redemptions",
    "redemptions_by",
    "release",
    "segment_names",
    "set_active",
    "shop_of",
    "usage",
]
