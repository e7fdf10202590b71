"""Reminders: in-app always, by email only with MAIL_SERVER, exactly once."""

import smtplib
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from forum import jobs
from forum.clock import now
from forum.extensions import db
from forum.notifications.models import Notification


class FakeSMTP:
    """Stands in for smtplib.SMTP: records messages, opens no socket."""

    sent: list = []

    def __init__(self, host, port, timeout=None):
        self.host = host

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, message):
        FakeSMTP.sent.append(message)


def reminders(app) -> dict[int, int]:
    with app.app_context():
        rows = db.session.execute(
            select(Notification.user_id, func.count())
            .where(Notification.kind == "event_reminder")
            .group_by(Notification.user_id)
        ).all()
        return dict(rows)


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.sent = []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    return FakeSMTP


def test_confirmed_participants_are_reminded_once(app, make_user, make_event, sign_up, fake_smtp):
    event_id = make_event(capacity=2, starts_in=timedelta(days=3))
    make_event(capacity=2, starts_in=timedelta(days=10))  # too far ahead
    guests = [make_user(n) for n in ("rem1", "rem2", "rem3")]
    for guest in guests:
        sign_up(guest, event_id)
    assert jobs.run_all(app)["event_reminders"] == 0  # three days out: not yet
    with time_machine.travel(now() + timedelta(days=2, hours=1)):
        assert jobs.run_all(app)["event_reminders"] == 2
        assert jobs.run_all(app)["event_reminders"] == 0
    assert reminders(app) == {
        guests[0].id: 1,
        guests[1].id: 1,
    }  # the waitlisted one is not reminded
    assert fake_smtp.sent == []  # no MAIL_SERVER: in-app only


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
        results.append(jobs.run_all(app)["event_reminders"])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert -1 not in results, results
    assert sum(results) == 8
    assert reminders(app) == {guest.id: 1 for guest in guests}


class TestWithMail:
    @pytest.fixture
    def config_overrides(self):
        return {"MAIL_SERVER": "mail.example.org", "MAIL_PORT": 2525}

    def test_reminder_is_also_emailed_when_mail_is_configured(
        self, app, make_user, make_event, sign_up, fake_smtp
    ):
        event_id = make_event(capacity=3, starts_in=timedelta(hours=5), title="Night market")
        guest = make_user("mailee")
        sign_up(guest, event_id)
        assert jobs.run_all(app)["event_reminders"] == 1
        assert jobs.run_all(app)["event_reminders"] == 0
        (message,) = fake_smtp.sent
        assert message["To"] == "mailee@example.com" and "Night market" in message["Subject"]
        assert "check-in code" in message.get_content()

    def test_a_failing_mail_server_does_not_resend_or_break_the_job(
        self, app, make_user, make_event, sign_up, monkeypatch
    ):
        class Broken(FakeSMTP):
            def send_message(self, message):
                raise smtplib.SMTPException("down")

        monkeypatch.setattr(smtplib, "SMTP", Broken)
        event_id = make_event(capacity=3, starts_in=timedelta(hours=5))
        guest = make_user("unlucky")
        sign_up(guest, event_id)
        assert jobs.run_all(app)["event_reminders"] == 1
        assert jobs.run_all(app)["event_reminders"] == 0
        assert reminders(app) == {guest.id: 1}
