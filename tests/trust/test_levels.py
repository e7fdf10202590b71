"""Promotion by the rules, with a controlled clock: reading, likes, replies, the
recent window and flags; never lowering a TL4 grant; the job; the API rules table."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Post, Thread
from forum.clock import replaying
from forum.errors import Forbidden, ValidationFailed
from forum.extensions import db
from forum.moderation import service as moderation
from forum.notifications.models import Notification
from forum.trust import service as trust
from forum.trust.models import TrustChange, TrustThreadRead
from tests.conftest import app_context, login

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def level(app, user_ref) -> int:
    with app_context(app):
        db.session.expire_all()
        return db.session.get(User, user_ref.id).trust_level


def set_rules(app, changes):
    with app_context(app), app.test_request_context("/"):
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        if admin is None:
            from forum.accounts import service as accounts

            admin = accounts.register(
                "rulesadmin", "rulesadmin@example.com", "long passphrase kept", role="admin"
            )
        trust.update_rules(admin, changes)
        db.session.commit()


def read(client, thread_id: int, position: int = 1) -> None:
    """Open a thread page and send its read beacon, as plaza.js does once posts show."""
    assert client.get(f"/t/{thread_id}").status_code == 200
    beacon = client.post(f"/t/{thread_id}/read", data={"position": str(position)})
    assert beacon.status_code == 200, beacon.get_data(as_text=True)


@pytest.fixture
def threads(make_thread, make_user):
    author = make_user("author")
    return [make_thread(author, title=f"Thread number {n}") for n in range(3)]


def test_reading_threads_reaches_tl1_and_notifies(app, make_user, threads):
    set_rules(app, {1: {"topics_entered": 2, "posts_read": 2, "minutes_reading": 1}})
    reader = make_user("reader", trust_level=0)
    client = app.test_client()
    login(client, reader)
    with replaying(T0):
        read(client, threads[0])
        read(client, threads[0])  # the same topic and post count once
    assert level(app, reader) == 0
    with replaying(T0 + timedelta(seconds=70)):
        read(client, threads[1])
    assert level(app, reader) == 1
    with app_context(app):
        figures = trust.figures(db.session.get(User, reader.id))
        assert figures["topics_entered"] == 2 and figures["posts_read"] == 2
        assert figures["minutes_reading"] == 1 and figures["days_visited"] == 1
        notes = db.session.scalars(
            select(Notification).where(
                Notification.user_id == reader.id, Notification.kind == "trust_level"
            )
        ).all()
        assert len(notes) == 1 and "trust level 1" in notes[0].text
        change = db.session.scalars(
            select(TrustChange).where(TrustChange.user_id == reader.id)
        ).one()
        assert (change.old_level, change.new_level, change.reason) == (0, 1, "rules")


def test_reading_time_is_capped_per_view(app, make_user, threads):
    set_rules(app, {1: {"topics_entered": 0, "posts_read": 0, "minutes_reading": 5}})
    reader = make_user("reader", trust_level=0)
    client = app.test_client()
    login(client, reader)
    with replaying(T0):
        read(client, threads[0])
    with replaying(T0 + timedelta(hours=3)):  # a tab left open is not three hours of reading
        read(client, threads[1])
    assert level(app, reader) == 0
    with app_context(app):
        assert trust.figures(db.session.get(User, reader.id))["minutes_reading"] == 2


def test_reading_time_is_capped_per_day(app, make_user, threads):
    """A script posting the beacon every two minutes all day earns one day's allowance."""
    app.config["TRUST_READ_SECONDS_PER_DAY"] = 300
    reader = make_user("reader", trust_level=0)
    client = app.test_client()
    login(client, reader)
    for n in range(12):  # 11 gaps of 100 s: 1,100 s reported on the first day
        with replaying(T0 + timedelta(seconds=100 * n)):
            read(client, threads[n % 3], position=1)
    with app_context(app):
        assert trust.figures(db.session.get(User, reader.id))["minutes_reading"] == 5
    with replaying(T0 + timedelta(days=1)):
        read(client, threads[0])
    with replaying(T0 + timedelta(days=1, seconds=90)):
        read(client, threads[1])
    with app_context(app):  # a new day counts again: 120 s (the per-view cap) + 90 s
        db.session.expire_all()
        figures = trust.figures(db.session.get(User, reader.id))
        assert figures["minutes_reading"] == (300 + 120 + 90) // 60
        assert figures["days_visited"] == 2


def figures_of(app, user_ref) -> dict:
    with app_context(app):
        db.session.expire_all()
        return trust.figures(db.session.get(User, user_ref.id))


def test_opening_a_thread_page_counts_nothing_until_its_beacon(app, make_user, threads):
    reader = make_user("reader", trust_level=0)
    client = app.test_client()
    login(client, reader)
    with replaying(T0):
        assert client.get(f"/t/{threads[0]}").status_code == 200
    with app_context(app):
        assert db.session.scalars(select(TrustThreadRead)).all() == []
    before = figures_of(app, reader)
    assert before["topics_entered"] == before["posts_read"] == before["days_visited"] == 0
    with replaying(T0):
        assert client.post(f"/t/{threads[0]}/read", data={"position": "1"}).status_code == 200
    after = figures_of(app, reader)
    assert (after["topics_entered"], after["posts_read"], after["days_visited"]) == (1, 1, 1)


def test_posts_read_are_the_advance_at_most_a_page_per_report(app, make_user, threads):
    app.config["POSTS_PER_PAGE"] = 3
    author = make_user("writer")
    with app_context(app), app.test_request_context("/"):
        thread = db.session.get(Thread, threads[0])
        for n in range(9):
            board.reply(db.session.get(User, author.id), thread, f"reply number {n}")
        db.session.commit()
    reader = make_user("reader", trust_level=0)
    client = app.test_client()
    login(client, reader)
    with replaying(T0):
        read(client, threads[0], 10)  # opened at the last post: one page counted, not ten
    assert figures_of(app, reader)["posts_read"] == 3
    with replaying(T0):
        read(client, threads[0], 4)  # behind the highest report: nothing new
    assert figures_of(app, reader)["posts_read"] == 3
    with app_context(app):
        assert db.session.get(TrustThreadRead, (reader.id, threads[0])).posts_seen == 10


def test_bad_or_unseen_beacons_count_nothing(app, make_user, threads):
    reader = make_user("reader", trust_level=0)
    client = app.test_client()
    login(client, reader)
    for bad in ("0", "2", "abc", ""):
        assert client.post(f"/t/{threads[0]}/read", data={"position": bad}).status_code == 422
    with app_context(app):
        db.session.execute(update(Thread).where(Thread.id == threads[1]).values(deleted_at=T0))
        db.session.commit()
    assert client.post(f"/t/{threads[1]}/read", data={"position": "1"}).status_code == 404
    visitor = app.test_client().post(f"/t/{threads[0]}/read", data={"position": "1"})
    assert visitor.status_code in (302, 401)
    with app_context(app):
        assert db.session.scalars(select(TrustThreadRead)).all() == []
    assert figures_of(app, reader)["topics_entered"] == 0


def test_tl2_needs_likes_replies_and_days(app, make_user, threads):
    set_rules(
        app,
        {
            1: {"topics_entered": 0, "posts_read": 0, "minutes_reading": 0},
            2: {
                "days_visited": 2,
                "likes_given": 1,
                "likes_received": 1,
                "replies": 2,
                "topics_entered": 0,
                "posts_read": 0,
                "minutes_reading": 0,
            },
        },
    )
    member = make_user("member", trust_level=0)
    friend = make_user("friend")
    with app_context(app), app.test_request_context("/"):
        me, them = db.session.get(User, member.id), db.session.get(User, friend.id)
        thread = db.session.get(Thread, threads[0])
        with replaying(T0):
            mine = board.reply(me, thread, "first reply")
            db.session.commit()
        assert me.trust_level == 1  # TL1 needs nothing here: the first act promotes
        with replaying(T0 + timedelta(days=1)):
            board.reply(me, thread, "second reply")
            theirs = db.session.scalar(
                select(Post).where(Post.thread_id == thread.id, Post.position == 1)
            )
            board.like(me, theirs)
            db.session.commit()
        assert me.trust_level == 1  # no like received yet
        with replaying(T0 + timedelta(days=1, hours=1)):
            board.like(them, mine)
            db.session.commit()
        db.session.refresh(me)
        assert me.trust_level == 2


def test_tl3_sustained_over_the_window_with_few_flags(app, make_user, monkeypatch):
    zero = {metric: 0 for metric in trust.METRICS if metric != "max_recent_flags"}
    set_rules(app, {1: zero, 2: zero, 3: {**zero, "account_age_days": 100, "max_recent_flags": 2}})
    with replaying(T0):
        old_hand = make_user("oldhand", trust_level=2)
    flags = {"n": 5}
    monkeypatch.setattr(
        moderation, "flags_against", lambda user_id, since: flags["n"], raising=False
    )
    with app_context(app):
        with replaying(T0 + timedelta(days=99)):
            assert trust.evaluate_all() == 0
        with replaying(T0 + timedelta(days=101)):
            assert trust.evaluate_all() == 0  # old enough, but flagged too often
            flags["n"] = 2
            assert trust.evaluate_all() == 1
            assert trust.evaluate_all() == 0  # idempotent
    assert level(app, old_hand) == 3


def test_rules_never_lower_a_tl4_grant_and_a_demotion_holds(app, make_user):
    moderator = make_user("mod", role="moderator")
    leader = make_user("leader", trust_level=0)
    rascal = make_user("rascal", trust_level=2)
    zero = {metric: 0 for metric in trust.METRICS if metric != "max_recent_flags"}
    set_rules(app, {1: zero, 2: zero, 3: zero})
    with app_context(app), app.test_request_context("/"):
        mod = db.session.get(User, moderator.id)
        trust.grant(mod, db.session.get(User, leader.id), 4, "Runs the meetups")
        trust.grant(mod, db.session.get(User, rascal.id), 0, "Spam wave")
        db.session.commit()
        trust.evaluate_all()
    assert level(app, leader) == 4
    assert level(app, rascal) == 0


def test_grant_needs_staff_a_level_and_a_reason(app, make_user):
    moderator = make_user("mod", role="moderator")
    member = make_user("member")
    with app_context(app), app.test_request_context("/"):
        target = db.session.get(User, member.id)
        with pytest.raises(Forbidden):
            trust.grant(target, target, 4, "I deserve it")
        mod = db.session.get(User, moderator.id)
        for bad_level, reason in ((5, "ok"), (-1, "ok"), (True, "ok"), ("4", "ok"), (2, "  ")):
            with pytest.raises(ValidationFailed):
                trust.grant(mod, target, bad_level, reason)
        db.session.rollback()
        assert db.session.scalars(select(TrustChange)).all() == []


def test_grant_from_the_profile_page(app, make_user):
    moderator = make_user("mod", role="moderator")
    member = make_user("member")
    client = app.test_client()
    login(client, moderator)
    page = client.get("/u/member").get_data(as_text=True)
    assert "TL1 · basic" in page and "Set level" in page
    response = client.post(
        "/admin/trust/grant", data={"username": "member", "level": "4", "reason": "Leads"}
    )
    assert response.status_code == 303
    assert level(app, member) == 4
    assert "TL4 · leader" in client.get("/u/member").get_data(as_text=True)


# --- the rules table (API) ---------------------------------------------------------------


def test_put_trust_rules_contract(app, make_user, token_for):
    admin = make_user("admin", role="admin")
    client = app.test_client()
    got = client.get("/api/v1/admin/trust-rules", headers=token_for(admin))
    assert got.status_code == 200
    assert got.get_json()["tl1"]["topics_entered"] == 5
    assert got.get_json()["tl3"]["max_recent_flags"] == 5
    response = client.put(
        "/api/v1/admin/trust-rules",
        json={"tl1": {"topics_entered": 3}, "tl3": {"max_recent_flags": None}},
        headers=token_for(admin),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["tl1"]["topics_entered"] == 3 and body["tl1"]["posts_read"] == 30
    assert body["tl3"]["max_recent_flags"] is None
    assert body["recent_window_days"] == 100
    assert client.get("/api/v1/admin/trust-rules", headers=token_for(admin)).get_json() == body


@pytest.mark.parametrize(
    "payload",
    [
        {"tl1": {"topics_entered": -1}},
        {"tl1": {"topics_entered": 10**12}},
        {"tl1": {"topics_entered": "5"}},
        {"tl1": {"topics_entered": True}},
        {"tl1": {"topics_entered": None}},
        {"tl1": {"nonsense": 1}},
        {"tl4": {"replies": 1}},
        {"tl2": "lots"},
    ],
)
def test_bad_trust_rules_are_refused_and_change_nothing(app, make_user, token_for, payload):
    admin = make_user("admin", role="admin")
    client = app.test_client()
    before = client.get("/api/v1/admin/trust-rules", headers=token_for(admin)).get_json()
    response = client.put("/api/v1/admin/trust-rules", json=payload, headers=token_for(admin))
    assert response.status_code == 422
    assert client.get("/api/v1/admin/trust-rules", headers=token_for(admin)).get_json() == before


def test_only_admins_edit_trust_rules(app, make_user, token_for):
    for role in ("member", "moderator"):
        user = make_user(f"a{role}", role=role)
        response = app.test_client().put(
            "/api/v1/admin/trust-rules", json={"tl1": {"replies": 0}}, headers=token_for(user)
        )
        assert response.status_code == 403


def test_admin_rules_page(app, make_user):
    admin = make_user("admin", role="admin")
    client = app.test_client()
    login(client, admin)
    assert "Trust levels" in client.get("/admin/trust").get_data(as_text=True)
    bad = client.post("/admin/trust", data={"tl1.topics_entered": "lots"})
    assert bad.status_code == 422
    ok = client.post("/admin/trust", data={"tl1.topics_entered": "7", "tl3.max_recent_flags": ""})
    assert ok.status_code == 303
    with app_context(app):
        table = trust.rules()
        assert table[1]["topics_entered"] == 7 and table[3]["max_recent_flags"] is None
    other = app.test_client()
    login(other, make_user("member"))
    assert other.get("/admin/trust").status_code == 403
