"""Limits and small checks every part of the shop service shares."""

import re

from ...errors import ValidationFailed, field_error
from ...idempotency import KEY_RE as IDEMPOTENCY_KEY_RE  # noqa: F401  (the shop's name for it)
from ...permissions import has_role, is_admin  # noqa: F401  (is_admin: the shop's own name)

CURRENCIES = ("USD", "EUR", "GBP", "CNY", "JPY")
MAX_PRICE_CENTS = 100_000_000  # 1,000,000.00 in the currency
MAX_STOCK = 1_000_000
MAX_QUANTITY = 99
MAX_LINES = 20
LOW_STOCK = 5  # "only N left" from here down
NAME_MAX = 120
DESCRIPTION_MAX = 20_000
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ADDRESS_FIELDS = {
    "name": 80,
    "line1": 120,
    "line2": 120,
    "city": 80,
    "postal_code": 20,
    "country": 56,
}
ADDRESS_REQUIRED = ("name", "line1", "city", "postal_code", "country")
PAID_STATUSES = ("paid", "shipped", "completed")


def is_merchant(user) -> bool:
    return has_role(user, "merchant")


def _whole(value, name: str, low: int, high: int, message: str, errors: dict) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.setdefault(name, []).append(message)
        return None
    return value


def _text(value, name: str, low: int, high: int, message: str, errors: dict) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not low <= len(text) <= high:
        errors.setdefault(name, []).append(message)
    return text


def _address(raw) -> dict:
    """A shipping address checked field by field ({} for None); raises ValidationFailed."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise field_error("shipping_address", "Give the address as an object.")
    errors: dict[str, list[str]] = {}
    address = {}
    for name, limit in ADDRESS_FIELDS.items():
        value = raw.get(name, "")
        value = value.strip() if isinstance(value, str) else None
        if value is None or len(value) > limit:
            errors[f"shipping_address.{name}"] = [f"Use at most {limit} characters."]
        elif not value and name in ADDRESS_REQUIRED:
            errors[f"shipping_address.{name}"] = ["Required."]
        else:
            address[name] = value
    extra = set(raw) - set(ADDRESS_FIELDS)
    for name in sorted(extra):
        errors[f"shipping_address.{name}"] = ["Unknown field."]
    if errors:
        raise ValidationFailed("Please complete the address.", fields=errors)
    return address
