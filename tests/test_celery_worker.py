"""A real Celery worker process on Redis runs the reminder sweep and its email task.

The test process only enqueues: the worker (``celery -A forum.celery_worker worker``,
started here against the test's own database) claims the reminder, queues the email
as a second task through Redis, runs that too and hands the message to an SMTP sink
on 127.0.0.1. The queue name is unique per run, so parallel runs sharing the Redis
server never take each other's messages.
"""

import os
import socket
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.clock import now
from forum.events import service as events
from forum.events.models import Signup
from forum.events.tasks import send_reminders
from forum.extensions import db
from forum.notifications.models import Notification

pytestmark = [
    pytest.mark.redis,
    pytest.mark.multiprocess,
    pytest.mark.xdist_group("celery-worker"),
]
ROOT = Path(__file__).resolve().parents[1]
BROKER_DB = 7  # a Redis database no other test uses


class Sink:
    """An SMTP server that keeps what it is handed."""

    def __init__(self):
        self.messages: list = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        self.arrived.set()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield sink, controller.port
    controller.stop()


@pytest.fixture
def broker(redis_url):
    """Redis database 7 and a queue of this run's own (``redis_url`` skips or fails first)."""
    url = redis_url.rsplit("/", 1)[0] + f"/{BROKER_DB}"
    return url, f"plaza-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def config_overrides(broker, smtp_sink):
    url, queue = broker
    return {
        "CELERY": {"broker_url": url, "result_backend": url, "task_default_queue": queue},
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_sink[1],
    }


@pytest.fixture
def worker(app, database_uri, broker, smtp_sink, tmp_path):
    url, queue = broker
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FORUM_ENV": "testing",
        "FORUM_SECRET_KEY": "test-secret",
        "FORUM_SQLALCHEMY_DATABASE_URI": database_uri,
        "FORUM_CELERY__BROKER_URL": url,
        "FORUM_CELERY__RESULT_BACKEND": url,
        "FORUM_CELERY__TASK_DEFAULT_QUEUE": queue,
        "FORUM_MAIL_SERVER": "127.0.0.1",
        "FORUM_MAIL_PORT": str(smtp_sink[1]),
        "FORUM_RATELIMIT_ENABLED": "false",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "forum.celery_worker", "worker",
             "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel=INFO", "-Q", queue],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    yield process, log_path
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    import redis

    redis.Redis.from_url(url).delete(queue)


def event_tonight_with(app, host, guest) -> None:
    """An event five hours away (inside the reminder lead) and one confirmed sign-up."""
    starts = now() + timedelta(hours=5)
    with app.app_context(), app.test_request_context("/"):
        event = events.create_event(
            db.session.get(User, host.id),
            title="Rooftop jazz",
            description="Bring a blanket.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="The roof",
            capacity=3,
        )
        events.sign_up(db.session.get(User, guest.id), event)
        db.session.commit()


def test_a_worker_process_sends_each_reminder_once_through_redis(app, make_user, worker, smtp_sink):
    process, log_path = worker
    sink, _port = smtp_sink
    guest = make_user("listener")
    event_tonight_with(app, make_user("hostess"), guest)

    result = send_reminders.apply_async(ignore_result=False)
    try:
        assert result.get(timeout=25) == 1
        assert sink.arrived.wait(timeout=25), "the email task never reached the SMTP sink"
    except Exception:
        print(log_path.read_text(errors="replace")[-4000:])
        raise
    assert process.poll() is None  # the worker served both tasks and is still up
    # Enqueued again: the claims make the second sweep (and any retry) a no-op.
    assert send_reminders.apply_async(ignore_result=False).get(timeout=25) == 0

    (message,) = sink.messages
    assert message["To"] == "listener@example.com" and "Rooftop jazz" in message["Subject"]
    with app.app_context():
        signup = db.session.scalar(select(Signup).where(Signup.user_id == guest.id))
        assert signup.reminded_at is not None and signup.reminder_mailed_at is not None
        reminders = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "event_reminder", Notification.user_id == guest.id)
        )
        assert reminders == 1
