"""Two real Celery worker processes send one campaign at a site-wide rate: they share
the Redis token bucket, so 120 messages at 60 per second take at least two seconds
from the first to the last however the batches fall between the workers (with a
per-process rate two workers would send twice as fast). A lower bound only: slowness
can never fail it."""

import threading
import time
from email import message_from_bytes

import pytest

from forum.accounts.models import User
from forum.campaigns import service
from forum.campaigns.models import Campaign
from forum.extensions import db
from tests.fixtures.celery_worker import (
    celery_config,
    serve_smtp,
    start_worker,
    stop_workers,
    worker_env,
)

from .test_worker_smtp import audience

pytestmark = [
    pytest.mark.redis,
    pytest.mark.multiprocess,
    pytest.mark.xdist_group("celery-worker"),
]
MESSAGES, RATE = 120, 60


class TimedSink:
    def __init__(self):
        self.arrivals: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.arrivals.append((time.monotonic(), message_from_bytes(envelope.content)["To"]))
        return "250 OK"


@pytest.fixture
def timed_sink():
    yield from serve_smtp(TimedSink())


@pytest.fixture
def config_overrides(broker, timed_sink):
    return celery_config(broker, timed_sink[1], CAMPAIGN_BATCH_SIZE=15)


@pytest.fixture
def two_workers(app, database_uri, broker, timed_sink, tmp_path):
    url, queue = broker
    env = worker_env(
        database_uri,
        broker,
        timed_sink[1],
        FORUM_CAMPAIGN_BATCH_SIZE="15",
        FORUM_CAMPAIGN_EMAIL_PER_SECOND=str(RATE),
        FORUM_CAMPAIGN_RATE_REDIS_URL=url,
    )
    logs = [tmp_path / f"worker{index}.log" for index in range(2)]
    processes = [
        start_worker(env, queue, log, name=f"rate{index}@%h") for index, log in enumerate(logs)
    ]
    import redis

    client = redis.Redis.from_url(url)
    client.delete("plaza:campaigns:rate:email")
    yield processes, logs
    stop_workers(processes)
    client.delete(queue, "plaza:campaigns:rate:email")


def test_two_workers_share_one_send_rate(app, make_user, two_workers, timed_sink):
    processes, logs = two_workers
    sink, _port = timed_sink
    admin = make_user("boss", role="admin")
    audience(app, MESSAGES)
    time.sleep(3)  # both workers up before the batches are queued, so both take some
    with app.app_context(), app.test_request_context("/"):
        actor = db.session.get(User, admin.id)
        segment = service.create_segment(
            actor, "verified", {"all": [{"field": "email_verified", "op": "eq", "value": True}]}
        )
        campaign = service.create_campaign(
            actor, name="Paced", channel="email", segment_id=segment.id, subject="Hi", body="Hi!"
        )
        db.session.commit()
        service.send_now(actor, campaign)
        db.session.commit()
        campaign_id = campaign.id
    deadline = time.monotonic() + 120
    status = None
    while time.monotonic() < deadline:
        with app.app_context():
            status = db.session.get(Campaign, campaign_id).status
        if status == "sent":
            break
        time.sleep(0.5)
    try:
        assert status == "sent" and len(sink.arrivals) == MESSAGES
        worked = [log.read_text(errors="replace").count("send_batch") for log in logs]
        assert all(worked), worked  # both workers sent batches
    except AssertionError:
        for log in logs:
            print(log.read_text(errors="replace")[-3000:])
        raise
    assert len({to for _at, to in sink.arrivals}) == MESSAGES  # each once
    times = sorted(at for at, _to in sink.arrivals)
    span = times[-1] - times[0]
    print(f"{MESSAGES} messages from 2 workers at {RATE}/s shared: {span:.2f} s")
    assert span >= 0.9 * (MESSAGES - 1) / RATE
