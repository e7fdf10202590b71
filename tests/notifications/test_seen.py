"""Seeing and following notifications are POSTs (a GET never writes): the bell's page
beacon marks what it showed, following one marks it read; only the owner may do either,
bad input changes nothing, and both are idempotent."""

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Thread
from forum.extensions import db
from forum.notifications.models import Notification
from tests.conftest import app_context, login


@pytest.fixture
def two_unread(app, make_user, make_thread):
    """opener has two unread reply groups (two threads); alice wrote the replies."""
    opener, alice = make_user("opener"), make_user("alice")
    threads = [make_thread(opener, title=t) for t in ("Knives", "Forks")]
    with app_context(app), app.test_request_context("/"):
        for thread_id in threads:
            board.reply(db.session.get(User, alice.id), db.session.get(Thread, thread_id), "Yes")
        db.session.commit()
    return opener, alice, threads


def read_state(app, user_id) -> dict[int, bool]:
    with app_context(app):
        db.session.remove()
        rows = db.session.scalars(select(Notification).where(Notification.user_id == user_id))
        return {row.id: row.read_at is not None for row in rows}


def test_the_page_lists_without_marking_and_its_beacon_marks_what_it_showed(app, two_unread):
    opener, _alice, _threads = two_unread
    client = app.test_client()
    login(client, opener)
    page = client.get("/notifications/").get_data(as_text=True)
    ids = sorted(read_state(app, opener.id))
    assert page.count('class="is-unread"') == 2
    assert all(f'data-unread-id="{i}"' in page for i in ids)
    assert 'data-seen-url="/notifications/seen"' in page and "js/notifications.js" in page
    assert read_state(app, opener.id) == dict.fromkeys(ids, False)

    seen = client.post("/notifications/seen", data={"ids": [str(ids[0])]})
    assert seen.status_code == 200 and seen.get_json() == {"marked": 1, "unread": 1}
    assert read_state(app, opener.id) == {ids[0]: True, ids[1]: False}
    # again, and with both: idempotent, only the new one changes
    again = client.post("/notifications/seen", data={"ids": [str(i) for i in ids]})
    assert again.get_json() == {"marked": 1, "unread": 0}
    assert client.post("/notifications/seen", data={"ids": [str(ids[0])]}).get_json() == {
        "marked": 0,
        "unread": 0,
    }
    assert "data-bell-count>0<" in client.get("/").get_data(as_text=True)


def test_another_member_cannot_mark_yours_seen_nor_follow_them(app, two_unread):
    opener, alice, _threads = two_unread
    ids = sorted(read_state(app, opener.id))
    client = app.test_client()
    login(client, alice)
    refused = client.post("/notifications/seen", data={"ids": [str(ids[0])]})
    assert refused.status_code == 404 and refused.get_json()["error"]["code"] == "not_found"
    assert client.post(f"/notifications/{ids[0]}").status_code == 404
    assert client.get(f"/notifications/{ids[0]}").status_code == 404
    assert read_state(app, opener.id) == dict.fromkeys(ids, False)
    # one of someone else's among the owner's own: nothing is marked
    own = app.test_client()
    login(own, opener)
    mixed = own.post("/notifications/seen", data={"ids": [str(ids[0]), str(ids[1] + 1000)]})
    assert mixed.status_code == 404
    assert read_state(app, opener.id) == dict.fromkeys(ids, False)


@pytest.mark.parametrize(
    "data", [{}, {"ids": ["x"]}, {"ids": ["-1"]}, {"ids": [str(i) for i in range(1, 102)]}]
)
def test_bad_beacons_are_refused_with_a_field_error(app, two_unread, data):
    opener, _alice, _threads = two_unread
    client = app.test_client()
    login(client, opener)
    refused = client.post("/notifications/seen", data=data)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"]["ids"]
    assert not any(read_state(app, opener.id).values())


def test_visitors_are_sent_to_log_in(app, two_unread):
    opener, _alice, _threads = two_unread
    first = min(read_state(app, opener.id))
    client = app.test_client()
    for response in (
        client.post("/notifications/seen", data={"ids": [str(first)]}),
        client.post(f"/notifications/{first}"),
        client.get(f"/notifications/{first}"),
    ):
        assert response.status_code in (302, 401)
    assert not any(read_state(app, opener.id).values())


def test_opening_an_unread_one_asks_for_a_post_and_the_post_marks_it_and_leads_on(app, two_unread):
    opener, _alice, threads = two_unread
    first = min(read_state(app, opener.id))
    client = app.test_client()
    login(client, opener)
    page = client.get(f"/notifications/{first}")  # an email's link: no write
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'action="/notifications/{first}"' in html and "data-notification-open" in html
    assert 'name="csrf_token"' in html
    assert read_state(app, opener.id)[first] is False

    followed = client.post(f"/notifications/{first}")
    assert followed.status_code == 302 and followed.headers["Location"].startswith("/p/")
    assert read_state(app, opener.id)[first] is True
    # read: its link now goes straight through, and following again is harmless
    straight = client.get(f"/notifications/{first}")
    assert (
        straight.status_code == 302 and straight.headers["Location"] == followed.headers["Location"]
    )
    assert client.post(f"/notifications/{first}").status_code == 302
    assert client.get("/notifications/999999").status_code == 404
