"""Badges awarded by rules, once, with a notification, shown on the profile."""

from datetime import timedelta

from sqlalchemy import func, select

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Post, Thread
from forum.clock import now, replaying
from forum.extensions import db
from forum.notifications.models import Notification
from forum.trust import service as trust
from forum.trust.models import BadgeAward
from tests.conftest import app_context, login


def badges(app, user_ref) -> list[str]:
    with app_context(app):
        return [item["badge"] for item in trust.badges_of(user_ref.id)]


def test_helpful_after_three_members_like_a_reply_once(app, make_user, make_thread):
    opener, helper = make_user("opener"), make_user("helper")
    fans = [make_user(f"fan{n}") for n in range(4)]
    thread_id = make_thread(opener)
    with app_context(app), app.test_request_context("/"):
        thread = db.session.get(Thread, thread_id)
        answer = board.reply(db.session.get(User, helper.id), thread, "Try turning it off and on")
        first = db.session.scalar(
            select(Post).where(Post.thread_id == thread_id, Post.position == 1)
        )
        db.session.commit()
        for fan in fans:
            board.like(db.session.get(User, fan.id), first)  # the opening post is not an answer
        db.session.commit()
        assert trust.badges_of(opener.id) == []
        for fan in fans[:2]:
            board.like(db.session.get(User, fan.id), answer)
        db.session.commit()
        assert trust.badges_of(helper.id) == []
        for fan in fans[2:]:
            board.like(db.session.get(User, fan.id), answer)
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(BadgeAward)) == 1
        notes = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == helper.id, Notification.kind == "badge")
        )
        assert notes == 1
    assert badges(app, helper) == ["helpful"]


def test_welcomer_counts_each_new_member_once(app, make_user, make_thread):
    host = make_user("host")
    with replaying(now() - timedelta(days=60)):
        veteran = make_user("veteran")
    newcomers = [make_user(f"new{n}", trust_level=0) for n in range(3)]
    old_thread = make_thread(veteran, title="An old hand asks")
    new_threads = [make_thread(user, title=f"Hello from {user.username}") for user in newcomers]
    with app_context(app), app.test_request_context("/"):
        me = db.session.get(User, host.id)
        board.reply(me, db.session.get(Thread, old_thread), "Welcome back")
        for thread_id in new_threads[:2]:
            board.reply(me, db.session.get(Thread, thread_id), "Welcome!")
            board.reply(me, db.session.get(Thread, thread_id), "Welcome again!")
        db.session.commit()
        assert trust.badges_of(host.id) == []
        board.reply(me, db.session.get(Thread, new_threads[2]), "Welcome!")
        db.session.commit()
    assert badges(app, host) == ["welcomer"]


def test_event_regular_and_regular_badges_and_the_profile(app, make_user):
    member, moderator = make_user("member"), make_user("mod", role="moderator")
    with app_context(app), app.test_request_context("/"):
        # (what the signup_checked_in receiver calls; the events tests check in for real)
        for event_id in (1, 2, 2):
            trust.on_checked_in(member.id, event_id)
        assert trust.badges_of(member.id) == []
        trust.on_checked_in(member.id, 3)
        trust.grant(
            db.session.get(User, moderator.id),
            db.session.get(User, member.id),
            3,
            "Long-time helper",
        )
        db.session.commit()
    assert sorted(badges(app, member)) == ["event_regular", "regular"]
    client = app.test_client()
    login(client, make_user("viewer"))
    page = client.get("/u/member").get_data(as_text=True)
    assert "Event regular" in page and "Regular" in page
