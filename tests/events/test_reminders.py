"""Reminders: in-app always, by email only with MAIL_SERVER, exactly once.

Mail goes through Flask-Mailman; under TESTING its backend is ``locmem`` (an outbox
in memory), so no test opens a socket. Without a broker tasks run eagerly, and a
task's retry runs again at once.
"""

import smtplib
import threading
from datetime import timedelta

import pytest
import time_machine
from flask_mailman.backends import locmem
from sqlalchemy import func, select

from forum.clock import now
from forum.events.models import Signup
from forum.events.tasks import send_reminder_email, send_reminders
from forum.extensions import db
from forum.notifications.models import Notification


def outbox(app) -> list:
    return getattr(app.extensions["mailman"], "outbox", [])


def reminders(app) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(Notification.user_id, func.count())
            .where(Notification.kind == "event_reminder")
            .group_by(Notification.user_id)
        ).all()
        return dict(rows)


def test_confirmed_participants_are_reminded_once(app, make_user, make_event, sign_up):
    event_id = make_event(capacity=2, starts_in=timedelta(days=3))
    make_event(capacity=2, starts_in=timedelta(days=10))  # too far ahead
    guests = [make_user(n) for n in ("rem1", "rem2", "rem3")]
    for guest in guests:
        sign_up(guest, event_id)
    assert send_reminders.delay().get() == 0  # three days out: not yet
    with time_machine.travel(now() + timedelta(days=2, hours=1)):
        assert send_reminders.delay().get() == 2
        assert send_reminders.delay().get() == 0
    assert reminders(app) == {
        guests[0].id: 1,
        guests[1].id: 1,
    }  # the waitlisted one is not reminded
    assert outbox(app) == []  # no MAIL_SERVER: in-app only


def test_reminder_jobs_running_at_once_still_send_once(
    app, make_user, make_event, sign_up, on_postgres
):
    event_id = make_event(capacity=None, starts_in=timedelta(hours=3))
    guests = [make_user(f"par{i}") for i in range(8)]
    for guest in guests:
        sign_up(guest, event_id)
    barrier = threading.Barrier(4)
    results = []

    def run():
        barrier.wait()
        # apply(): delay() marks joins as blocking for every thread while it runs eagerly.
        results.append(send_reminders.apply().get())

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 8, results
    assert reminders(app) == {guest.id: 1 for guest in guests}


class TestWithMail:
    @pytest.fixture
    def config_overrides(self):
        return {"MAIL_SERVER": "mail.example.org", "MAIL_PORT": 2525}

    def test_reminder_is_also_emailed_when_mail_is_configured(
        self, app, make_user, make_event, sign_up
    ):
        event_id = make_event(capacity=3, starts_in=timedelta(hours=5), title="Night market")
        guest = make_user("mailee")
        sign_up(guest, event_id)
        assert send_reminders.delay().get() == 1
        assert send_reminders.delay().get() == 0
        (message,) = outbox(app)
        assert message.to == ["mailee@example.com"] and "Night market" in message.subject
        assert "check-in code" in message.body

    def test_a_retried_reminder_email_task_sends_once(self, app, make_user, make_event, sign_up):
        event_id = make_event(capacity=3, starts_in=timedelta(hours=5))
        guest = make_user("twice")
        sign_up(guest, event_id)
        assert send_reminders.delay().get() == 1
        with app.app_context():
            signup_id = db.session.scalar(select(Signup.id).where(Signup.user_id == guest.id))
        # The worker died after sending, or the broker delivered the message again.
        assert send_reminder_email.delay(signup_id).get() is False
        assert send_reminder_email.delay(signup_id).get() is False
        assert len(outbox(app)) == 1

    def test_a_send_that_fails_is_retried_and_then_sent_once(
        self, app, make_user, make_event, sign_up, monkeypatch
    ):
        real_send = locmem.EmailBackend.send_messages
        attempts = []

        def flaky(backend, messages):
            attempts.append(len(messages))
            if len(attempts) == 1:
                raise smtplib.SMTPServerDisconnected("down for a moment")
            return real_send(backend, messages)

        monkeypatch.setattr(locmem.EmailBackend, "send_messages", flaky)
        event_id = make_event(capacity=3, starts_in=timedelta(hours=5))
        guest = make_user("patient")
        sign_up(guest, event_id)
        assert send_reminders.delay().get() == 1
        assert attempts == [1, 1]  # failed, then the task's retry sent it
        assert len(outbox(app)) == 1
        assert reminders(app) == {guest.id: 1}

    def test_a_failing_mail_server_does_not_resend_or_break_the_job(
        self, app, make_user, make_event, sign_up, monkeypatch
    ):
        def broken(backend, messages):
            raise smtplib.SMTPException("down")

        monkeypatch.setattr(locmem.EmailBackend, "send_messages", broken)
        event_id = make_event(capacity=3, starts_in=timedelta(hours=5))
        guest = make_user("unlucky")
        sign_up(guest, event_id)
        assert send_reminders.delay().get() == 1
        assert send_reminders.delay().get() == 0
        assert reminders(app) == {guest.id: 1}
        assert outbox(app) == []
        with app.app_context():
            # Every retry gave its claim back: a later delivery may still send it.
            assert db.session.scalar(select(Signup.reminder_mailed_at)) is None
