"""The send rate is the whole site's, not each worker's: separate processes reserving
slots in the Redis token bucket get slots spaced 1/rate apart between them all; with
Redis down a worker keeps sending, alone, at its fallback share of the rate."""

import logging
import multiprocessing
import uuid

import pytest
from flask import Flask

from forum.campaigns.service import pacing

RATE = 2000  # messages per second: a slot every 500 microseconds
WORKERS, EACH = 3, 30


def _worker_app(url: str, rate: float = RATE) -> Flask:
    app = Flask("pacing-worker")
    app.config.update(
        CAMPAIGN_EMAIL_PER_SECOND=rate,
        CAMPAIGN_SMS_PER_SECOND=0,
        CAMPAIGN_RATE_REDIS_URL=url,
        CAMPAIGN_RATE_FALLBACK_SHARE=0.25,
        CELERY={},
    )
    return app


def _reserve_many(url: str, bucket: str, count: int, out) -> None:
    """One worker process: reserve ``count`` email slots in the shared bucket."""
    with _worker_app(url).app_context():
        out.put([pacing.reserve("email", bucket) for _ in range(count)])


@pytest.mark.redis
def test_workers_in_separate_processes_share_one_bucket(redis_url):
    bucket = f"plaza:test:rate:{uuid.uuid4().hex}"
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    workers = [
        context.Process(target=_reserve_many, args=(redis_url, bucket, EACH, out))
        for _ in range(WORKERS)
    ]
    for process in workers:
        process.start()
    reserved = [slot for _ in workers for slot in out.get(timeout=60)]
    for process in workers:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert None not in reserved and len(reserved) == WORKERS * EACH
    slots = sorted(slot for slot, _now in reserved)
    gaps = [later - earlier for earlier, later in zip(slots, slots[1:], strict=False)]
    # Every slot is at least 1/rate after the previous one, whichever process took it.
    assert min(gaps) >= 1_000_000 // RATE
    # So the 90 messages need at least 99 intervals from the first to the last.
    assert slots[-1] - slots[0] >= (WORKERS * EACH - 1) * (1_000_000 // RATE)


@pytest.mark.redis
def test_the_pacer_sleeps_until_its_reserved_slot(redis_url):
    slept: list[float] = []
    app = _worker_app(redis_url, rate=10)  # a slot every 0.1 s
    with app.app_context():
        app.config["CAMPAIGN_RATE_REDIS_URL"] = redis_url
        pacing_key = "plaza:campaigns:rate:email"
        import redis

        redis.Redis.from_url(redis_url).delete(pacing_key)
        wait = pacing.pacer("email", sleep=slept.append)
        for _ in range(3):
            wait()
    # The first message goes at once; each later one waits for its own later slot
    # (nothing really slept here, so the slots pile up 0.1 s apart).
    assert len(slept) == 2
    assert 0.05 < slept[0] <= 0.1 and 0.15 < slept[1] <= 0.2


def test_redis_down_degrades_to_a_local_share_of_the_rate_and_never_raises(caplog):
    slept: list[float] = []
    app = _worker_app("redis://127.0.0.1:1/0", rate=100)  # nothing listens on port 1
    with app.app_context(), caplog.at_level(logging.WARNING):
        wait = pacing.pacer("email", sleep=slept.append)
        for _ in range(4):
            wait()
        assert pacing.reserve("email") is None  # still down: not retried at once
    # 100/s shared; alone at a quarter: one message every 0.04 s in this process (the
    # fake sleep returns at once, so the k-th message waits about k * 0.04 s).
    assert len(slept) == 3
    assert all(0.03 * k < s <= 0.04 * k for k, s in enumerate(slept, start=1))
    warnings = [r for r in caplog.records if "rate bucket in Redis unreachable" in r.message]
    assert len(warnings) == 1  # logged once, not per message


def test_no_redis_configured_paces_locally_at_the_full_rate():
    slept: list[float] = []
    app = _worker_app("", rate=50)
    with app.app_context():
        assert pacing.redis_url() is None
        wait = pacing.pacer("email", sleep=slept.append)
        for _ in range(3):
            wait()
    assert len(slept) == 2
    assert all(0.015 * k < s <= 0.02 * k for k, s in enumerate(slept, start=1))


def test_the_celery_broker_is_the_bucket_when_it_is_redis():
    app = _worker_app("")
    app.config["CELERY"] = {"broker_url": "redis://broker:6379/0"}
    with app.app_context():
        assert pacing.redis_url() == "redis://broker:6379/0"
        app.config["CELERY"] = {"broker_url": "memory://"}
        assert pacing.redis_url() is None


def test_rate_zero_never_waits():
    app = _worker_app("redis://127.0.0.1:1/0", rate=0)
    with app.app_context():
        wait = pacing.pacer("email", sleep=lambda s: pytest.fail("slept"))
        wait()
        assert pacing.reserve("email") is None
