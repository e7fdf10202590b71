"""Per-type notification settings: the page at /settings/notifications and
``in_app`` through PATCH /api/v1/me/settings; bad values change nothing."""

import re

import pytest
from sqlalchemy import select

from forum.campaigns.models import ContactSettings
from forum.extensions import db
from forum.notifications import service
from forum.notifications.models import NotificationMute
from tests.conftest import app_context, login


def mutes(app, user_id):
    with app_context(app):
        return set(
            db.session.scalars(
                select(NotificationMute.type).where(NotificationMute.user_id == user_id)
            )
        )


def email_prefs(app, user_id):
    with app_context(app):
        row = db.session.get(ContactSettings, user_id)
        return dict(row.notification_prefs or {}) if row else {}


def test_the_api_shows_and_mutes_types_in_the_bell(app, client, make_user, token_for):
    alice = make_user("alice")
    headers = token_for(alice)
    shown = client.get("/api/v1/me/settings", headers=headers).get_json()
    assert shown["in_app"] == {type_: True for type_ in service.TYPES}
    answer = client.patch(
        "/api/v1/me/settings",
        json={"in_app": {"watching": False, "reply": False}, "notifications": {"reply": "digest"}},
        headers=headers,
    )
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["in_app"]["watching"] is False and body["in_app"]["reply"] is False
    assert body["in_app"]["mention"] is True and body["notifications"]["reply"] == "digest"
    assert mutes(app, alice.id) == {"watching", "reply"}
    again = client.patch("/api/v1/me/settings", json={"in_app": {"reply": True}}, headers=headers)
    assert again.get_json()["in_app"]["reply"] is True
    assert mutes(app, alice.id) == {"watching"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"in_app": {"reply": "no"}}, "in_app.reply"),
        ({"in_app": {"reply": 0}}, "in_app.reply"),
        ({"in_app": {"nope": False}}, "in_app.nope"),
        ({"in_app": {"<script>": False}}, "in_app.<script>"),
        ({"in_app": {"reply": False}, "notifications": {"reply": "hourly"}}, "notifications.reply"),
        ({"in_app": {"reply": False}, "digest": "hourly"}, "digest"),
    ],
)
def test_a_bad_value_is_refused_with_its_field_and_nothing_changes(
    app, client, make_user, token_for, body, field
):
    alice = make_user("alice")
    headers = token_for(alice)
    answer = client.patch("/api/v1/me/settings", json=body, headers=headers)
    assert answer.status_code in (400, 422)
    error = answer.get_json()["error"]
    assert field in error["fields"]
    assert mutes(app, alice.id) == set() and email_prefs(app, alice.id) == {}


def test_in_app_must_be_an_object(client, make_user, token_for):
    headers = token_for(make_user("alice"))
    answer = client.patch("/api/v1/me/settings", json={"in_app": ["reply"]}, headers=headers)
    assert answer.status_code in (400, 422) and answer.get_json()["error"]["fields"]


def test_the_page_sets_bell_and_email_per_type(app, make_user):
    alice = make_user("alice")
    client = app.test_client()
    assert client.get("/settings/notifications").status_code == 302  # log in first
    login(client, alice)
    page = client.get("/settings/notifications").get_data(as_text=True)
    assert "New posts in threads and categories you watch" in page  # bell only
    assert "Your orders (placed, paid, shipped)" in page  # email only
    form = {f"app_{t}": "y" for t in service.TYPES if t != "watching"}
    form |= {"email_mention": "off", "email_reply": "digest", "email_dm": "instant"}
    form |= {"email_order": "instant", "email_merchant_order": "instant"}
    form |= {"email_event": "instant", "email_review": "off"}
    saved = client.post("/settings/notifications", data=form)
    assert saved.status_code == 302
    assert mutes(app, alice.id) == {"watching"}
    assert email_prefs(app, alice.id)["mention"] == "off"
    assert email_prefs(app, alice.id)["review"] == "off"
    page = client.get("/settings/notifications").get_data(as_text=True)
    boxes = {name: attrs for attrs, name in re.findall(r"<input ([^>]*)name=\"app_(\w+)\"", page)}
    assert "checked" not in boxes["watching"] and "checked" in boxes["reply"]


def test_the_page_refuses_a_bad_choice_and_changes_nothing(app, make_user):
    alice = make_user("alice")
    client = app.test_client()
    login(client, alice)
    refused = client.post(
        "/settings/notifications", data={"email_mention": "hourly", "app_reply": ""}
    )
    assert refused.status_code in (400, 422)
    assert mutes(app, alice.id) == set() and email_prefs(app, alice.id) == {}


def test_a_muted_mention_is_never_sent(app, make_user, make_thread, token_for):
    from forum.accounts.models import User
    from forum.board import service as board
    from forum.board.models import Thread
    from forum.notifications.models import Notification

    opener, carol = make_user("opener"), make_user("carol")
    thread_id = make_thread(opener)
    app.test_client().patch(
        "/api/v1/me/settings", json={"in_app": {"mention": False}}, headers=token_for(carol)
    )
    with app_context(app), app.test_request_context("/"):
        board.reply(db.session.get(User, opener.id), db.session.get(Thread, thread_id), "@carol hi")
        db.session.commit()
        assert (
            db.session.scalar(select(Notification.id).where(Notification.user_id == carol.id))
            is None
        )
