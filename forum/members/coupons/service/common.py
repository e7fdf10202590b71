"""Coupons' limits and who may manage which coupon (an admin: site coupons; a merchant:
their shop's)."""

import re

from ....permissions import is_admin, is_member
from ....shop_embed import service as shop
from ..models import Coupon

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
