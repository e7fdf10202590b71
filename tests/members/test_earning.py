"""Points other features earn through signals: likes received and event check-ins.

Each act earns once (by key), the rule's daily cap holds, undoing it takes the points
back, and liking your own post earns nothing.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context


def points_of(app, user):
    """Points beyond the welcome bonus, from the ledger (the truth) and the wallet."""
    from forum.members import service
    from forum.members.models import Wallet

    with app_context(app):
        ledger = service.balance(user.id, "points") - service.WELCOME_POINTS
        wallet = db.session.get(Wallet, user.id).points - service.WELCOME_POINTS
        assert ledger == wallet
        return ledger


def earn_rows(app, rule):
    from forum.members.models import LedgerEntry

    with app_context(app):
        return db.session.scalars(
            select(LedgerEntry.amount).where(LedgerEntry.reason == f"earn:{rule}")
        ).all()


@pytest.fixture
def set_rule(app, make_user):
    from forum.accounts.models import User
    from forum.members import service

    admin = make_user("pointsadmin", role="admin")

    def change(rule, points, daily_cap):
        with app_context(app):
            service.update_points_rule(
                db.session.get(User, admin.id), rule, points=points, daily_cap=daily_cap
            )
            db.session.commit()

    return change


# --- likes ----------------------------------------------------------------------------


@pytest.fixture
def liking(app):
    from forum.accounts.models import User
    from forum.board import service
    from forum.board.models import Post

    def do(user, thread_id, liked=True):
        with app_context(app), app.test_request_context("/"):
            post = db.session.scalar(
                select(Post).where(Post.thread_id == thread_id).order_by(Post.id).limit(1)
            )
            act = service.like if liked else service.unlike
            count = act(db.session.get(User, user.id), post)
            db.session.commit()
            return count

    return do


def test_a_like_earns_the_author_once_and_an_unlike_takes_it_back(
    app, make_user, make_thread, liking
):
    author, fan = make_user("author"), make_user("fan")
    thread_id = make_thread(author)
    assert liking(fan, thread_id) == 1
    assert points_of(app, author) == 1 and points_of(app, fan) == 0
    # A repeated like is refused by the board and earns nothing more.
    from forum.errors import Conflict

    with pytest.raises(Conflict):
        liking(fan, thread_id)
    assert points_of(app, author) == 1
    assert liking(fan, thread_id, liked=False) == 0
    assert points_of(app, author) == 0
    # An unlike of nothing sends nothing; a like given again after an unlike earns
    # nothing more (the key is spent), so liking in a loop farms nothing.
    liking(fan, thread_id, liked=False)
    liking(fan, thread_id)
    assert points_of(app, author) == 0
    assert earn_rows(app, "likes") == [1]


def test_liking_your_own_post_earns_nothing(app, make_user, make_thread, liking):
    author = make_user("author")
    thread_id = make_thread(author)
    assert liking(author, thread_id) == 1
    assert points_of(app, author) == 0
    liking(author, thread_id, liked=False)
    assert points_of(app, author) == 0 and earn_rows(app, "likes") == []


def test_the_daily_cap_on_likes_holds(app, make_user, make_thread, liking, set_rule):
    set_rule("likes", 5, 12)
    author = make_user("author")
    fans = [make_user(f"fan{n}") for n in range(4)]
    thread_id = make_thread(author)
    for fan in fans:
        liking(fan, thread_id)
    # 5 + 5 + the 2 left under the cap + nothing.
    assert points_of(app, author) == 12
    assert sorted(earn_rows(app, "likes")) == [2, 5, 5]


def test_a_switched_off_rule_earns_nothing(app, make_user, make_thread, liking, set_rule):
    set_rule("likes", 0, None)
    author, fan = make_user("author"), make_user("fan")
    liking(fan, make_thread(author))
    assert points_of(app, author) == 0


# --- event check-ins ---------------------------------------------------------------------


@pytest.fixture
def door(app, make_user):
    """Events starting within the hour, their sign-ups, and the host's check-in tools."""
    from forum.accounts.models import User
    from forum.events import service
    from forum.events.models import Event, Signup

    host = make_user("doorhost")

    def event_with(*guests):
        with app_context(app), app.test_request_context("/"):
            starts = now() + timedelta(hours=1)
            event = service.create_event(
                db.session.get(User, host.id),
                title="Board-game night",
                description="Bring a game.",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                location="Riverside Café",
                capacity=10,
            )
            for guest in guests:
                service.sign_up(db.session.get(User, guest.id), event)
            db.session.commit()
            return event.id

    def signup_of(event_id, guest):
        return db.session.scalar(
            select(Signup).where(Signup.event_id == event_id, Signup.user_id == guest.id)
        )

    def check_in(event_id, guest):
        with app_context(app), app.test_request_context("/"):
            event = db.session.get(Event, event_id)
            code = signup_of(event_id, guest).checkin_code
            service.check_in(db.session.get(User, host.id), event, code)
            db.session.commit()

    def undo(event_id, guest):
        with app_context(app), app.test_request_context("/"):
            event = db.session.get(Event, event_id)
            signup_id = signup_of(event_id, guest).id
            service.undo_check_in(db.session.get(User, host.id), event, signup_id)
            db.session.commit()

    return event_with, check_in, undo


def test_a_check_in_earns_once_and_undo_takes_it_back(app, make_user, door):
    from forum.errors import Conflict

    event_with, check_in, undo = door
    gina, hugo = make_user("gina"), make_user("hugo")
    event_id = event_with(gina, hugo)
    check_in(event_id, gina)
    assert points_of(app, gina) == 10 and points_of(app, hugo) == 0
    with pytest.raises(Conflict):
        check_in(event_id, gina)
    assert points_of(app, gina) == 10
    undo(event_id, gina)
    assert points_of(app, gina) == 0
    # Checked in again after the undo: the sign-up has had its points.
    check_in(event_id, gina)
    assert points_of(app, gina) == 0
    assert earn_rows(app, "checkin") == [10]


def test_the_daily_cap_on_check_ins_holds(app, make_user, door):
    event_with, check_in, _undo = door
    gina = make_user("gina")
    events = [event_with(gina) for _ in range(4)]
    for event_id in events:
        check_in(event_id, gina)
    # 10 a check-in, 30 a day.
    assert points_of(app, gina) == 30
    assert earn_rows(app, "checkin") == [10, 10, 10]
