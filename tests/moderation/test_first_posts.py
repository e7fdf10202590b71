"""The first-post queue: a new account's first N posts (site setting) wait for a
moderator; nobody else sees them (nor their thread) or is notified until approved."""

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.moderation.models import ReviewItem
from forum.notifications.models import Notification
from tests.conftest import app_context

from .helpers import set_trust


@pytest.fixture
def config_overrides():
    return {"FIRST_POSTS_HELD": 2}


def _items(app):
    with app_context(app):
        return [
            (i.kind, i.target_id, i.status)
            for i in db.session.scalars(select(ReviewItem).order_by(ReviewItem.id))
        ]


def test_a_new_accounts_first_posts_wait_for_a_moderator(
    app, client, make_user, make_thread, token_for
):
    host = make_user("host")
    set_trust(app, host.id, 2)  # an established member: not held
    thread_id = make_thread(host, title="Welcome thread")
    newbie, reader, mod = (
        make_user("newbie"),
        make_user("reader"),
        make_user("mod", role="moderator"),
    )
    newbie_h, reader_h, mod_h = token_for(newbie), token_for(reader), token_for(mod)
    first = client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "hello @host"}, headers=newbie_h
    )
    assert first.status_code == 201
    first_id = first.get_json()["id"]
    assert client.get(f"/p/{first_id}").status_code == 404
    page = client.get(f"/api/v1/threads/{thread_id}", headers=reader_h).get_json()
    assert first_id not in [p["id"] for p in page["posts"]["items"]]
    own = client.get(f"/api/v1/threads/{thread_id}", headers=newbie_h).get_json()
    assert first_id in [p["id"] for p in own["posts"]["items"]]  # the author sees it
    with app_context(app):  # nobody was told of a post nobody may see
        assert (
            db.session.scalar(select(Notification.id).where(Notification.user_id == host.id))
            is None
        )
    # A new thread waits too, and with it its title.
    created = client.post(
        "/api/v1/threads",
        json={"category": "general", "title": "Cheap deals inside", "body": "see"},
        headers=newbie_h,
    )
    assert created.status_code == 201
    held_thread = created.get_json()["id"]
    assert client.get(f"/api/v1/threads/{held_thread}", headers=reader_h).status_code == 404
    assert "Cheap deals inside" not in client.get("/c/general").get_data(as_text=True)
    assert client.get(f"/api/v1/threads/{held_thread}", headers=newbie_h).status_code == 200
    # The third post is published at once.
    third = client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "third"}, headers=newbie_h
    )
    assert client.get(f"/p/{third.get_json()['id']}").status_code != 404
    assert [kind for kind, _, _ in _items(app)] == ["first_post", "first_post"]
    queue = client.get("/api/v1/moderation/queue", headers=mod_h).get_json()["items"]
    approve, reject = queue
    assert approve["target_id"] == first_id and approve["kind"] == "first_post"
    ok = client.post(
        f"/api/v1/moderation/queue/{approve['id']}/decide",
        json={"action": "disagree"},
        headers=mod_h,
    )
    assert ok.status_code == 200
    assert client.get(f"/p/{first_id}").status_code != 404
    # Approved: the mention it skipped is sent now, once (a second decision is refused).
    again = client.post(
        f"/api/v1/moderation/queue/{approve['id']}/decide",
        json={"action": "disagree"},
        headers=mod_h,
    )
    assert again.status_code == 409
    with app_context(app):
        told = db.session.scalars(select(Notification).where(Notification.user_id == host.id))
        about_it = [n.kind for n in told if n.url.endswith(f"/{first_id}")]
        assert about_it == ["mention"]
    no = client.post(
        f"/api/v1/moderation/queue/{reject['id']}/decide",
        json={"action": "agree", "reason": "Advertising in a first post"},
        headers=mod_h,
    )
    assert no.status_code == 200
    assert client.get(f"/api/v1/threads/{held_thread}", headers=reader_h).status_code == 404
    with app_context(app):
        note = db.session.scalar(select(Notification).where(Notification.user_id == newbie.id))
        assert "did not approve" in note.text and "Advertising in a first post" in note.text


def test_staff_and_trusted_members_are_not_held(app, client, make_user, make_thread, token_for):
    mod = make_user("mod", role="moderator")
    trusted = make_user("trusted")
    set_trust(app, trusted.id, 2)
    make_thread(mod, title="Staff thread")
    make_thread(trusted, title="Trusted thread")
    listing = client.get("/c/general").get_data(as_text=True)
    assert "Staff thread" in listing and "Trusted thread" in listing
    assert _items(app) == []


def test_the_setting_changes_how_many_wait(app, client, make_user, make_thread):
    from forum.accounts.models import User
    from forum.moderation import service

    admin = make_user("admin", role="admin")
    with app_context(app):
        service.update_settings(
            db.session.get(User, admin.id), {"first_posts_held": 0}, "open doors"
        )
        db.session.commit()
    make_thread(make_user("newbie"), title="Straight through")
    assert "Straight through" in client.get("/c/general").get_data(as_text=True)
    assert _items(app) == []
