"""``Idempotency-Key``: the one rule for the keys and for replaying a request made with one.

POSTs that create something (orders, checkouts, sign-ups, snap-ups, teams) take the
header; the HTML checkout sends one in a hidden field. A key is 1 to ``KEY_MAX``
visible ASCII characters (``check_key``: 422 ``invalid_idempotency_key`` otherwise,
None for no key). Each feature stores the key on the row the request creates (unique
per user, so two racing twins cannot both insert), looks that row up first and hands
it to ``replay``: the same request answers with the first result and writes nothing,
the same key with another request is refused (422 ``idempotency_key_reused``).
"""

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import ValidationFailed

FIELD = "Idempotency-Key"
KEY_MAX = 128  # every column that stores a key is at least this wide
KEY_RE = re.compile(rf"^[\x21-\x7e]{{1,{KEY_MAX}}}$")
RULE = f"Use 1-{KEY_MAX} visible ASCII characters."

T = TypeVar("T")


def check_key(key: object) -> str | None:
    """The key, or None for none (absent or empty); ValidationFailed when malformed."""
    if key is None or key == "":
        return None
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValidationFailed(
            f"The Idempotency-Key header must be 1-{KEY_MAX} visible ASCII characters.",
            code="invalid_idempotency_key",
            fields={FIELD: [RULE]},
        )
    return key


def key_reused() -> ValidationFailed:
    return ValidationFailed(
        "This Idempotency-Key was already used for a different request.",
        code="idempotency_key_reused",
        fields={FIELD: ["Already used with a different request."]},
    )


def replay(previous: T | None, same_request: Callable[[T], bool]) -> T | None:
    """``previous`` (the row an earlier request with this key made) when it answers this
    request too; None when there was none; ``key_reused`` when it was another request."""
    if previous is None:
        return None
    if not same_request(previous):
        raise key_reused()
    return previous


def request_hash(body: dict[str, Any]) -> str:
    """A fingerprint of a request's meaning, to tell a replay from another request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
