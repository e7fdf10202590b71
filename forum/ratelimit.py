"""Our own per-user limits (login per account, posting, chat), on Flask-Limiter's storage.

They share the storage (memory or Redis) and the one switch ``RATELIMIT_ENABLED``
with the per-route limits Flask-Limiter applies.
"""

from flask import current_app
from limits import parse_many

from .errors import RateLimited
from .extensions import limiter


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def allowed(spec: str, scope: str, *identifiers) -> bool:
    """True while every window of ``spec`` (e.g. "5/10second;100/hour") has room."""
    if not _enabled():
        return True
    return all(
        limiter.limiter.test(item, scope, *map(str, identifiers)) for item in parse_many(spec)
    )


def record(spec: str, scope: str, *identifiers) -> None:
    if not _enabled():
        return
    for item in parse_many(spec):
        limiter.limiter.hit(item, scope, *map(str, identifiers))


def consume(spec: str, scope: str, *identifiers, message: str | None = None) -> None:
    """Count one use; raise ``RateLimited`` (nothing counted) when a window is full."""
    if not allowed(spec, scope, *identifiers):
        raise RateLimited(message)
    record(spec, scope, *identifiers)


def reset(scope: str, *identifiers, spec: str) -> None:
    if not _enabled():
        return
    for item in parse_many(spec):
        limiter.limiter.clear(item, scope, *map(str, identifiers))
