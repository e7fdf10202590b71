"""Watching: notification levels per thread and per category, who is told of a post."""

import pytest
from sqlalchemy import select, update

from forum.accounts.models import User
from forum.board import service
from forum.board.models import CategoryWatch, Thread, ThreadWatch
from forum.clock import now
from forum.extensions import db
from forum.notifications.models import Notification
from tests.conftest import app_context, login

JSON = {"Accept": "application/json"}


def reply(app, thread_id, author, body="a reply"):
    with app_context(app), app.test_request_context("/"):
        service.reply(db.session.get(User, author.id), db.session.get(Thread, thread_id), body)
        db.session.commit()


def told(app, user):
    """(kind, text) of each thing ``user`` was told, oldest first: a grouped row (one
    per thread while unread) counts once per post it holds."""
    with app_context(app):
        return [
            (n.kind, n.text)
            for n in db.session.scalars(
                select(Notification)
                .where(Notification.user_id == user.id)
                .order_by(Notification.id)
            )
            for _ in range(n.count)
        ]


def level_of(app, user, thread_id):
    with app_context(app):
        return service.thread_level(
            db.session.get(User, user.id), db.session.get(Thread, thread_id)
        )


def client_for(app, user):
    client = app.test_client()
    login(client, user)
    return client


@pytest.fixture
def people(make_user):
    return make_user("alice"), make_user("bob"), make_user("carol")


def test_normal_is_quiet_and_watching_tells_every_post(app, people, make_thread):
    alice, bob, carol = people
    thread_id = make_thread(alice, title="Kettles")
    reply(app, thread_id, carol)
    assert told(app, bob) == []  # normal: only mentions and replies to bob
    as_bob = client_for(app, bob)
    response = as_bob.post(f"/t/{thread_id}/watch", data={"level": "watching"}, headers=JSON)
    assert response.status_code == 200 and response.get_json() == {"level": "watching"}
    assert 'value="watching" selected' in as_bob.get(f"/t/{thread_id}").get_data(as_text=True)
    reply(app, thread_id, carol, "second")
    reply(app, thread_id, bob, "bob's own post tells bob nothing")
    assert told(app, bob) == [("watching", "carol posted in “Kettles”")]
    # The author is told once per reply, as a reply, not also as a watcher.
    assert [kind for kind, _ in told(app, alice)] == ["reply", "reply", "reply"]


def test_a_muted_thread_never_notifies_even_a_mention_or_its_author(app, people, make_thread):
    alice, bob, carol = people
    thread_id = make_thread(alice, title="Noisy")
    as_alice = client_for(app, alice)
    assert as_alice.post(f"/t/{thread_id}/watch", data={"level": "muted"}).status_code == 302
    reply(app, thread_id, carol, "hey @alice look")
    reply(app, thread_id, bob)
    assert told(app, alice) == []
    # Un-muting brings notifications back.
    as_alice.post(f"/t/{thread_id}/watch", data={"level": "normal"})
    reply(app, thread_id, carol)
    assert [kind for kind, _ in told(app, alice)] == ["reply"]


def test_category_levels_apply_unless_the_thread_has_its_own(
    app, people, make_thread, make_category
):
    alice, bob, carol = people
    kitchen = make_category("kitchen")
    first = make_thread(alice, title="Pans", category_id=kitchen)
    second = make_thread(alice, title="Knives", category_id=kitchen)
    as_bob = client_for(app, bob)
    assert as_bob.post("/c/kitchen/watch", data={"level": "watching"}).status_code == 302
    assert 'value="watching" selected' in as_bob.get("/c/kitchen").get_data(as_text=True)
    as_bob.post(f"/t/{second}/watch", data={"level": "muted"})
    reply(app, first, carol)
    reply(app, second, carol)
    assert told(app, bob) == [("watching", "carol posted in “Pans”")]
    # A muted category silences its threads' author too.
    client_for(app, alice).post("/c/kitchen/watch", data={"level": "muted"})
    reply(app, first, carol)
    assert [kind for kind, _ in told(app, alice)] == ["reply", "reply"]  # the two before


def test_replying_tracks_but_keeps_a_level_chosen_before(app, people, make_thread):
    alice, bob, carol = people
    thread_id = make_thread(alice)
    assert level_of(app, bob, thread_id) == "normal"
    reply(app, thread_id, bob)
    assert level_of(app, bob, thread_id) == "tracking"
    client_for(app, carol).post(f"/t/{thread_id}/watch", data={"level": "muted"})
    reply(app, thread_id, carol)
    assert level_of(app, carol, thread_id) == "muted"
    # Tracking is not watching: a reply by someone else to someone else tells bob nothing.
    reply(app, thread_id, alice)
    assert told(app, bob) == []


def test_bad_levels_and_unseen_threads_change_nothing(app, people, make_thread, token_for):
    alice, bob, _ = people
    thread_id = make_thread(alice)
    as_bob = client_for(app, bob)
    for bad in ("", "WATCHING", "loud", "watching ", "x" * 5000):
        response = as_bob.post(f"/t/{thread_id}/watch", data={"level": bad}, headers=JSON)
        assert response.status_code == 422 and response.get_json()["error"]["fields"]["level"]
        assert as_bob.post("/c/general/watch", data={"level": bad}, headers=JSON).status_code == 422
    assert as_bob.post("/c/nope/watch", data={"level": "muted"}).status_code == 404
    headers = token_for(bob)
    api = app.test_client()
    url = f"/api/v1/threads/{thread_id}/notification-level"
    for bad in ({"level": "loud"}, {"level": 1}, {}, {"level": None}):
        assert api.put(url, json=bad, headers=headers).status_code == 422, bad
    assert api.put(url, json={"level": "watching"}).status_code == 401
    with app_context(app):
        assert db.session.scalars(select(ThreadWatch)).all() == []
        assert db.session.scalars(select(CategoryWatch)).all() == []
        db.session.execute(update(Thread).where(Thread.id == thread_id).values(deleted_at=now()))
        db.session.commit()
    assert api.put(url, json={"level": "watching"}, headers=headers).status_code == 404
    assert as_bob.post(f"/t/{thread_id}/watch", data={"level": "muted"}).status_code == 404
    assert app.test_client().post(f"/t/{thread_id}/watch", data={"level": "muted"}).status_code in (
        302,
        401,
    )


def test_api_sets_levels(app, people, make_thread, token_for):
    alice, bob, carol = people
    thread_id = make_thread(alice, title="Via the API")
    headers = token_for(bob)
    client = app.test_client()
    response = client.put(
        f"/api/v1/threads/{thread_id}/notification-level",
        json={"level": "watching"},
        headers=headers,
    )
    assert response.status_code == 200 and response.get_json() == {"level": "watching"}
    response = client.put(
        "/api/v1/categories/general/notification-level", json={"level": "muted"}, headers=headers
    )
    assert response.status_code == 200 and response.get_json() == {"level": "muted"}
    reply(app, thread_id, carol)  # the thread's own "watching" beats the muted category
    assert told(app, bob) == [("watching", "carol posted in “Via the API”")]
