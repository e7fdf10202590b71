"""Grouped notifications: one unread row per member, kind and thread, naming who;
read when seen (the bell's page, following it, reading the thread)."""

from sqlalchemy import select

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Thread
from forum.extensions import db
from forum.notifications import service
from forum.notifications.models import Notification
from tests.conftest import app_context, login


def replies(app, thread_id, authors, body="Good point"):
    with app_context(app), app.test_request_context("/"):
        thread = db.session.get(Thread, thread_id)
        for author in authors:
            board.reply(db.session.get(User, author.id), thread, body)
        db.session.commit()


def rows_of(app, user_id):
    with app_context(app):
        return db.session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
        ).all()


def test_thirteen_replies_ring_the_bell_once_naming_the_actors(app, make_user, make_thread):
    opener = make_user("opener")
    alice, bob, carol, dave = (make_user(n) for n in ("alice", "bob", "carol", "dave"))
    thread_id = make_thread(opener, title="Is a router worth it?")
    # 13 replies from 4 members, the last one by alice
    replies(
        app, thread_id, [bob, carol, dave, bob, carol, dave, bob, carol, dave, bob, carol, dave]
    )
    replies(app, thread_id, [alice], body="I'd say **yes**, see [[event:1]] <b>x</b>")

    (row,) = rows_of(app, opener.id)
    assert row.kind == "reply" and row.read_at is None
    assert row.count == 13 and row.actor_count == 4
    assert row.text == "alice and 3 others replied in “Is a router worth it?”"
    assert row.actor_names[:4] == ["alice", "dave", "carol", "bob"]
    # the excerpt is the newest reply's, plain text
    assert row.params["excerpt"] == "I'd say yes, see x"
    # the link is the first unread reply's, where reading should start
    with app_context(app):
        first = board.visible_post(int(row.url.rsplit("/", 1)[1]))
        assert first.position == 2

    client = app.test_client()
    login(client, opener)
    listing = client.get("/notifications/", headers={"Accept": "application/json"}).get_json()
    assert listing["unread"] == 1 and len(listing["items"]) == 1
    assert listing["items"][0]["count"] == 13


def test_two_actors_are_both_named(app, make_user, make_thread):
    opener, alice, bob = make_user("opener"), make_user("alice"), make_user("bob")
    thread_id = make_thread(opener, title="Knives")
    replies(app, thread_id, [alice, bob, alice])
    (row,) = rows_of(app, opener.id)
    assert row.text == "alice and bob replied in “Knives”" and row.count == 3


def test_replying_yourself_is_having_read_the_group(app, make_user, make_thread):
    opener, alice, bob = make_user("opener"), make_user("alice"), make_user("bob")
    thread_id = make_thread(opener, title="Knives")
    replies(app, thread_id, [alice, opener, bob])
    first, second = rows_of(app, opener.id)
    assert first.text == "alice replied in “Knives”" and first.read_at is not None
    assert second.text == "bob replied in “Knives”" and second.read_at is None


def test_a_read_group_is_closed_and_the_next_reply_starts_a_new_one(app, make_user, make_thread):
    opener, alice, bob = make_user("opener"), make_user("alice"), make_user("bob")
    thread_id = make_thread(opener, title="Knives")
    replies(app, thread_id, [alice, bob])
    client = app.test_client()
    login(client, opener)
    page = client.get("/notifications/").get_data(as_text=True)
    # shown once as new; the page's beacon then says it was seen
    assert 'class="is-unread"' in page and "bob and alice replied in" in page
    (row,) = rows_of(app, opener.id)
    assert row.read_at is None
    assert client.post("/notifications/seen", data={"ids": [str(row.id)]}).status_code == 200
    assert all(row.read_at is not None for row in rows_of(app, opener.id))
    assert 'class="is-unread"' not in client.get("/notifications/").get_data(as_text=True)

    replies(app, thread_id, [alice])
    old, new = rows_of(app, opener.id)
    assert old.count == 2 and new.count == 1 and new.read_at is None
    assert new.text == "alice replied in “Knives”"


def test_reading_the_thread_marks_its_notifications_read(app, make_user, make_thread, token_for):
    opener, alice = make_user("opener"), make_user("alice")
    thread_id = make_thread(opener, title="Knives")
    other_id = make_thread(opener, title="Forks")
    replies(app, thread_id, [alice])
    replies(app, other_id, [alice])
    client = app.test_client()
    login(client, opener)
    marked = client.post(
        f"/api/v1/threads/{thread_id}/read", json={"position": 2}, headers=token_for(opener)
    )
    assert marked.status_code == 200, marked.get_json()
    by_thread = {row.target: row.read_at is not None for row in rows_of(app, opener.id)}
    assert by_thread == {f"thread:{thread_id}": True, f"thread:{other_id}": False}
    assert "data-bell-count>1<" in client.get("/").get_data(as_text=True)


def test_mentions_group_per_thread_and_watchers_get_their_own_group(app, make_user, make_thread):
    opener, alice, bob, carol = (make_user(n) for n in ("opener", "alice", "bob", "carol"))
    thread_id = make_thread(opener, title="Knives")
    replies(app, thread_id, [alice, bob], body="what do you think, @carol?")
    (mention,) = rows_of(app, carol.id)
    assert mention.kind == "mention" and mention.count == 2
    assert mention.text == "bob and alice mentioned you in “Knives”"


def test_nobody_else_may_open_or_mark_someone_elses_notification(app, make_user, make_thread):
    opener, alice = make_user("opener"), make_user("alice")
    thread_id = make_thread(opener, title="Knives")
    replies(app, thread_id, [alice])
    (row,) = rows_of(app, opener.id)
    client = app.test_client()
    login(client, alice)
    assert client.get(f"/notifications/{row.id}").status_code == 404
    with app_context(app):
        try:
            service.mark_read(alice.id, row.id)
        except Exception as err:  # NotFound
            assert getattr(err, "status", None) == 404
        else:
            raise AssertionError("marked someone else's notification")
    assert rows_of(app, opener.id)[0].read_at is None


def test_a_muted_type_is_never_made_nor_pushed(app, make_user, make_thread):
    opener, alice = make_user("opener"), make_user("alice")
    thread_id = make_thread(opener, title="Knives")
    with app_context(app):
        service.set_in_app(opener.id, {"reply": False})
        db.session.commit()
    replies(app, thread_id, [alice])
    assert rows_of(app, opener.id) == []
    with app_context(app):
        service.set_in_app(opener.id, {"reply": True})
        db.session.commit()
    replies(app, thread_id, [alice])
    assert len(rows_of(app, opener.id)) == 1
