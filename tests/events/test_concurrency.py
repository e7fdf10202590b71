"""Seats and the waitlist under real concurrency: many threads, each with its own
connection and transaction, on committed data. Runs on SQLite (one writer at a
time) and on PostgreSQL (row locks), where it is the proof that counts."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from tests.fixtures.concurrency import run_at_once, small_pool


@pytest.fixture
def config_overrides():
    return small_pool()


def check_invariants(app, event_id):
    """Seats counter == confirmed rows <= capacity; waitlist ranks 1..n; tickets unique."""
    from forum.events import service
    from forum.events.models import Event, Signup

    with app.app_context():
        event = db.session.get(Event, event_id)
        confirmed = db.session.scalar(
            select(func.count())
            .select_from(Signup)
            .where(Signup.event_id == event_id, Signup.status == "confirmed")
        )
        waiting = db.session.scalars(
            select(Signup)
            .where(Signup.event_id == event_id, Signup.status == "waitlisted")
            .order_by(Signup.waitlist_ticket)
        ).all()
        tickets = [s.waitlist_ticket for s in waiting]
        positions = [service.waitlist_position(s) for s in waiting]
        assert event.seats_taken == confirmed <= event.capacity
        assert len(set(tickets)) == len(tickets)
        assert positions == list(range(1, len(waiting) + 1))
        if waiting:
            assert confirmed == event.capacity  # nobody waits while a seat is free
        return confirmed, [s.user_id for s in waiting]


def _make_users(make_user, prefix, count):
    return [make_user(f"{prefix}{i:03d}") for i in range(count)]


def _sign_up_job(user_id, event_id):
    from forum.accounts.models import User
    from forum.events import service
    from forum.events.models import Event

    def job():
        result = service.sign_up(db.session.get(User, user_id), db.session.get(Event, event_id))
        return result.status, result.position

    return job


def _cancel_job(user_id, event_id):
    from forum.accounts.models import User
    from forum.events import service
    from forum.events.models import Event

    def job():
        service.cancel_signup(db.session.get(User, user_id), db.session.get(Event, event_id))
        return "cancelled"

    return job


def test_hundred_members_at_once_for_ten_seats(app, make_user, make_event):
    event_id = make_event(capacity=10, starts_in=timedelta(days=2))
    members = _make_users(make_user, "rush", 100)
    outcomes = run_at_once(app, [_sign_up_job(m.id, event_id) for m in members])
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    confirmed = [o for o in outcomes if o[0] == "confirmed"]
    waitlisted = sorted(o[1] for o in outcomes if o[0] == "waitlisted")
    assert len(confirmed) == 10
    assert waitlisted == list(range(1, 91))  # positions as answered: no gaps, no duplicates
    assert check_invariants(app, event_id)[0] == 10


def test_concurrent_cancels_promote_in_ticket_order(app, make_user, make_event):
    from forum.events.models import Signup

    event_id = make_event(capacity=10, starts_in=timedelta(days=2))
    seated = _make_users(make_user, "seat", 10)
    queue = _make_users(make_user, "queue", 30)
    newcomers = _make_users(make_user, "late", 10)
    for member in seated + queue:  # one by one: a known order
        outcome = run_at_once(app, [_sign_up_job(member.id, event_id)])[0]
        assert not isinstance(outcome, Exception)
    leaving_queue = queue[1:10:2]  # five waitlisted members give up
    jobs = [_cancel_job(m.id, event_id) for m in seated + leaving_queue]
    jobs += [_sign_up_job(m.id, event_id) for m in newcomers]
    outcomes = run_at_once(app, jobs)
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert all(
        o[0] == "waitlisted" for o in outcomes[15:]
    )  # the event never had a free seat to grab

    confirmed_count, waiting_ids = check_invariants(app, event_id)
    remaining_queue = [m.id for m in queue if m not in leaving_queue]
    with app.app_context():
        confirmed_ids = set(
            db.session.scalars(
                select(Signup.user_id).where(
                    Signup.event_id == event_id, Signup.status == "confirmed"
                )
            )
        )
    assert confirmed_count == 10
    assert confirmed_ids == set(remaining_queue[:10])
    assert waiting_ids[:15] == remaining_queue[10:]
    assert set(waiting_ids[15:]) == {m.id for m in newcomers}


def test_the_same_member_twice_at_once_gets_one_place(app, make_user, make_event):
    from forum.events.models import Signup

    event_id = make_event(capacity=5)
    member = make_user("twin")
    outcomes = run_at_once(app, [_sign_up_job(member.id, event_id) for _ in range(6)])
    wins = [o for o in outcomes if not isinstance(o, Exception)]
    assert wins == [("confirmed", None)]
    assert {getattr(o, "code", None) for o in outcomes if isinstance(o, Exception)} == {
        "already_signed_up"
    }
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Signup).where(Signup.event_id == event_id)
            )
            == 1
        )
    check_invariants(app, event_id)
