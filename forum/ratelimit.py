"""Our own per-user limits (login per account, posting, chat), on Flask-Limiter's storage.

They share the storage (memory or Redis) and the one switch ``RATELIMIT_ENABLED``
with the per-route limits Flask-Limiter applies.

When the storage (Redis) is unreachable they do what Flask-Limiter does with
``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``: log the outage once and count in this
process's memory until the storage answers again (Flask-Limiter probes it and
switches back), so a Redis outage never turns a login, post or chat message
into a 500. Without the fallback the storage error propagates as before.
"""

import logging
import time

from flask import current_app
from limits import parse_many

from .errors import RateLimited
from .extensions import limiter

log = logging.getLogger(__name__)


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def _strategy():
    """The rate limiter to count with: Flask-Limiter's, or its in-memory fallback."""
    return limiter.limiter


def _fall_back(exc: Exception):
    """Switch to the in-memory fallback after a storage error (or re-raise without one)."""
    fallback = getattr(limiter, "_fallback_limiter", None)
    if fallback is None or not getattr(limiter, "_in_memory_fallback_enabled", False):
        raise exc
    if not limiter._storage_dead:
        log.warning(
            "Rate limit storage unreachable (%s: %s); counting in memory until it is back",
            type(exc).__name__,
            exc,
        )
        # Flask-Limiter's own flag: its route limits fall back too, and it probes
        # the storage on later requests and switches back when it answers.
        limiter._storage_dead = True
    return fallback


def _call(method: str, *args):
    strategy = _strategy()
    try:
        return getattr(strategy, method)(*args)
    except Exception as exc:  # the storage's own errors: redis.ConnectionError, TimeoutError...
        if strategy is getattr(limiter, "_fallback_limiter", None):
            raise
        return getattr(_fall_back(exc), method)(*args)


def allowed(spec: str, scope: str, *identifiers) -> bool:
    """True while every window of ``spec`` (e.g. "5/10second;100/hour") has room."""
    if not _enabled():
        return True
    return all(_call("test", item, scope, *map(str, identifiers)) for item in parse_many(spec))


def record(spec: str, scope: str, *identifiers) -> None:
    if not _enabled():
        return
    for item in parse_many(spec):
        _call("hit", item, scope, *map(str, identifiers))


def seconds_until_room(spec: str, scope: str, *identifiers) -> int:
    """How long until every full window of ``spec`` has room again (at least 1 s)."""
    wait = 1
    if not _enabled():
        return wait
    for item in parse_many(spec):
        stats = _call("get_window_stats", item, scope, *map(str, identifiers))
        if stats.remaining <= 0:
            wait = max(wait, int(stats.reset_time - time.time() + 0.999))
    return wait


def consume(spec: str, scope: str, *identifiers, message: str | None = None) -> None:
    """Count one use; raise ``RateLimited`` (nothing counted) when a window is full."""
    if not allowed(spec, scope, *identifiers):
        raise RateLimited(message)
    record(spec, scope, *identifiers)


def reset(scope: str, *identifiers, spec: str) -> None:
    if not _enabled():
        return
    for item in parse_many(spec):
        _call("clear", item, scope, *map(str, identifiers))
