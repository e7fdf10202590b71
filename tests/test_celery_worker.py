"""A real Celery worker process on Redis runs the reminder sweep and its email task.

The test process only enqueues: the worker (``celery -A forum.celery_worker worker``,
started here against the test's own database) claims the reminder, queues the email
as a second task through Redis, runs that too and hands the message to an SMTP sink
on 127.0.0.1. The worker, the broker and the sink are tests/fixtures/celery_worker.py's.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.clock import now
from forum.events import service as events
from forum.events.models import Signup
from forum.events.tasks import send_reminders
from forum.extensions import db
from forum.notifications.models import Notification
from tests.fixtures.celery_worker import celery_config

pytestmark = [
    pytest.mark.redis,
    pytest.mark.multiprocess,
    pytest.mark.xdist_group("celery-worker"),
]


@pytest.fixture
def config_overrides(broker, smtp_sink):
    return celery_config(broker, smtp_sink[1])


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
