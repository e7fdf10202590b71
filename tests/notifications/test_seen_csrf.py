"""With CSRF on (as in production): the bell page's beacon and following a notification
need the page's token; without it nothing is marked."""

import re

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Thread
from forum.extensions import db
from forum.notifications.models import Notification
from tests.conftest import app_context


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def test_seeing_and_following_need_the_token(app, make_user, make_thread):
    opener, alice = make_user("opener"), make_user("alice")
    thread_id = make_thread(opener, title="Knives")
    with app_context(app), app.test_request_context("/"):
        board.reply(db.session.get(User, alice.id), db.session.get(Thread, thread_id), "Yes")
        db.session.commit()
        (row_id,) = db.session.scalars(select(Notification.id)).all()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login",
        data={"username": opener.username, "password": opener.password, "csrf_token": token},
    )
    assert client.post("/notifications/seen", data={"ids": [str(row_id)]}).status_code == 400
    assert client.post(f"/notifications/{row_id}").status_code == 400

    def unread() -> bool:
        with app_context(app):
            db.session.remove()
            return db.session.get(Notification, row_id).read_at is None

    assert unread()
    listing = client.get("/notifications/").get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', listing).group(1)
    seen = client.post(
        "/notifications/seen", data={"ids": [str(row_id)]}, headers={"X-CSRFToken": meta}
    )
    assert seen.status_code == 200 and seen.get_json()["unread"] == 0
    assert not unread()
