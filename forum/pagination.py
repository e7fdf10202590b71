"""Opaque cursors for keyset pagination (``?cursor=`` / ``?limit=`` in the API)."""

import base64
import json
from typing import Any

from . import jsonbody
from .errors import field_error
from .schemas import MAX_DB_INT, MIN_DB_INT

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode(values: list[Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def decode(cursor: str | None, arity: int) -> list[Any] | None:
    """Return the cursor's values, None for no cursor; raise a 422 field error when forged."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = jsonbody.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise field_error("cursor", "That cursor is not valid.") from None
    if not isinstance(values, list) or len(values) != arity or not all(map(_plain, values)):
        raise field_error("cursor", "That cursor is not valid.")
    return values


def _plain(value: object) -> bool:
    """Cursors we issue hold strings, booleans and column-range integers, nothing nested."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return MIN_DB_INT <= value <= MAX_DB_INT
    return isinstance(value, float) and value == value and abs(value) < 1e15


def limit_from(raw: str | int | None, default: int = DEFAULT_LIMIT) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise field_error("limit", f"Use a whole number from 1 to {MAX_LIMIT}.") from None
    if not 1 <= value <= MAX_LIMIT:
        raise field_error("limit", f"Use a whole number from 1 to {MAX_LIMIT}.")
    return value
