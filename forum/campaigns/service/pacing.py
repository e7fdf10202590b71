"""The per-channel send rate, shared by every worker process: a token bucket in Redis.

``CAMPAIGN_EMAIL_PER_SECOND`` / ``CAMPAIGN_SMS_PER_SECOND`` are the rates the mail
server or SMS provider allows the whole site, however many Celery workers send. Each
send first **reserves a slot** with one Lua script (GCRA, the token bucket written as
a "theoretical arrival time"): ``slot = max(stored, now); stored = slot + 1/rate``,
using Redis's own clock, so slots are spaced ``1/rate`` apart across all workers; the
worker sleeps until its slot and sends. One round trip per message, no lock held.

The Redis server is ``CAMPAIGN_RATE_REDIS_URL``, else the Celery broker when it is
Redis (a deployment with workers has one). Without either (tests, ``make run`` with
in-process tasks) there is one sending process and the bucket is local.

**Redis down**: sending goes on, slower: the bucket falls back to this process's memory
at ``CAMPAIGN_RATE_FALLBACK_SHARE`` of the rate (default a quarter: with up to four
workers the provider's limit still holds), logs once, and tries Redis again after
``RETRY_SECONDS``. It never raises into a batch (rows claimed stay claimed and sent
once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import current_app

log = logging.getLogger(__name__)

RETRY_SECONDS = 30.0
_CLIENT_KEY = "campaigns.rate_redis"
_DOWN_KEY = "campaigns.rate_redis_down_until"

# KEYS[1]: the bucket; ARGV[1]: microseconds per message. Returns {slot, now} in µs.
RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval),
           'PX', math.floor((slot + interval - now) / 1000) + 1000)
return {string.format('%.0f', slot), string.format('%.0f', now)}
"""


def rate_of(channel: str) -> float:
    return float(current_app.config[f"CAMPAIGN_{channel.upper()}_PER_SECOND"] or 0)


def redis_url() -> str | None:
    url = current_app.config.get("CAMPAIGN_RATE_REDIS_URL")
    if url:
        return str(url)
    broker = str((current_app.config.get("CELERY") or {}).get("broker_url") or "")
    return broker if broker.startswith(("redis://", "rediss://", "unix://")) else None


def _client():
    url = redis_url()
    if url is None:
        return None
    if current_app.extensions.get(_DOWN_KEY, 0.0) > time.monotonic():
        return None  # down a moment ago: the local fallback until RETRY_SECONDS pass
    cached = current_app.extensions.get(_CLIENT_KEY)
    if cached is None or cached[0] != url:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        cached = (url, client, client.register_script(RESERVE))
        current_app.extensions[_CLIENT_KEY] = cached
    return cached


def reserve(channel: str, bucket: str | None = None) -> tuple[int, int] | None:
    """Reserve the next send slot of ``channel`` in the shared bucket: (slot, now) in
    microseconds of Redis's clock, or None when there is no shared bucket (no Redis
    configured, or it is down: the caller paces locally)."""
    rate = rate_of(channel)
    found = _client() if rate > 0 else None
    if found is None:
        return None
    _url, _redis, script = found
    key = bucket or f"plaza:campaigns:rate:{channel}"
    try:
        slot, at = script(keys=[key], args=[max(int(1_000_000 / rate), 1)])
    except Exception as exc:  # redis.RedisError, timeouts, a refused connection
        if current_app.extensions.get(_DOWN_KEY, 0.0) <= time.monotonic():
            log.warning(
                "campaigns: rate bucket in Redis unreachable (%s: %s); pacing this worker "
                "alone at %s of the rate for %ss",
                type(exc).__name__,
                exc,
                current_app.config["CAMPAIGN_RATE_FALLBACK_SHARE"],
                RETRY_SECONDS,
            )
        current_app.extensions[_DOWN_KEY] = time.monotonic() + RETRY_SECONDS
        return None
    return int(slot), int(at)


def pacer(channel: str, *, sleep: Callable[[float], None] = time.sleep) -> Callable[[], None]:
    """A ``wait()`` to call before each message of ``channel``: it returns when the
    message may go (the shared slot, or the local fallback's). Rate 0: no waiting."""
    rate = rate_of(channel)
    if rate <= 0:
        return lambda: None
    local = {"next": time.monotonic()}

    def wait() -> None:
        reserved = reserve(channel)
        if reserved is not None:
            slot, at = reserved
            if slot > at:
                sleep((slot - at) / 1_000_000)
            return
        # No shared bucket configured: one sending process, the full rate. Configured
        # but down: the other workers may be sending too, so only this one's share.
        share = float(current_app.config["CAMPAIGN_RATE_FALLBACK_SHARE"]) if redis_url() else 1.0
        interval = 1.0 / (rate * min(max(share, 0.01), 1.0))
        delay = local["next"] - time.monotonic()
        if delay > 0:
            sleep(delay)
        local["next"] = max(local["next"], time.monotonic()) + interval

    return wait
