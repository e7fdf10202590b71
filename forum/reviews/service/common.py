"""What every part of the reviews service shares: limits, settings, small checks."""

import hashlib
import unicodedata

from flask import current_app

from ...errors import ValidationFailed

TITLE_MIN, TITLE_MAX = 3, 120
BODY_MAX = 10_000
REPLY_MAX = 4_000
REASON_MAX = 300
SORTS = ("helpful", "newest", "rating")


def setting(name: str, default: int) -> int:
    value = current_app.config.get(name, default)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def check_rating(rating, errors: dict) -> int | None:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = ["Choose a rating from 1 to 5 stars."]
        return None
    return rating


def check_title(title, errors: dict) -> str:
    text = title.strip() if isinstance(title, str) else ""
    if not TITLE_MIN <= len(text) <= TITLE_MAX:
        errors["title"] = [f"Use {TITLE_MIN}-{TITLE_MAX} characters."]
    return text


def check_text(value, field: str, limit: int, errors: dict, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        errors[field] = ["Write something first."]
        return ""
    if len(value) > limit:
        errors[field] = [f"Keep it under {limit:,} characters."]
    return value


def raise_if(errors: dict) -> None:
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)


def address_key(address: dict | None) -> str | None:
    """A digest of where goods went, without the recipient's name (a household shares
    an address, not a name): case, spacing and accents folded. None without one."""
    if not address:
        return None
    parts = []
    for name in ("line1", "line2", "city", "postal_code", "country"):
        value = unicodedata.normalize("NFKD", str(address.get(name) or ""))
        value = "".join(c for c in value if c.isalnum()).casefold()
        parts.append(value)
    if not any(parts):
        return None
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
