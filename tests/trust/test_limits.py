"""What a trust level 0 member may not do yet: refused with a clear 403 and nothing
written, lifted at trust level 1; staff exempt."""

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.board.models import Post
from forum.chat import service as chat
from forum.chat.models import ChatMessage, ChatRoom
from forum.errors import Forbidden, RateLimited
from forum.extensions import db
from forum.notifications.models import Notification
from tests.conftest import app_context

THREE_LINKS = "see https://a.example and https://b.example and [c](https://c.example)"
AN_IMAGE = "look ![cat](/media/" + "c" * 32 + ".png)"  # an external one is a link


def count(app, model, *where) -> int:
    with app_context(app):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def thread(make_thread, make_user):
    return make_thread(make_user("opener"))


@pytest.fixture
def post_as(app, token_for, thread):
    def post(user, body):
        return app.test_client().post(
            f"/api/v1/threads/{thread}/posts", json={"body": body}, headers=token_for(user)
        )

    return post


@pytest.mark.parametrize(
    ("body", "needed"),
    [
        (THREE_LINKS, "more than 2 links"),
        (AN_IMAGE, "any images"),
        ("hi @opener @alice @bob", "more than 2 mentions"),
    ],
)
def test_tl0_post_refused_and_nothing_written_then_lifted_at_tl1(
    app, make_user, post_as, body, needed
):
    make_user("alice")
    make_user("bob")
    newcomer = make_user("newcomer", trust_level=0)
    posts, notes = count(app, Post), count(app, Notification)
    response = post_as(newcomer, body)
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "trust_level_required"
    assert "Trust level 1" in error["message"] and needed in error["message"]
    assert count(app, Post) == posts and count(app, Notification) == notes
    basic = make_user("basic", trust_level=1)
    assert post_as(basic, body).status_code == 201


def test_tl0_within_the_limits_may_post(app, make_user, post_as):
    newcomer = make_user("newcomer", trust_level=0)
    response = post_as(newcomer, "two links: https://a.example https://b.example and @opener")
    assert response.status_code == 201


def test_twelve_mentions_from_tl0_send_no_notification(app, make_user, post_as):
    names = [make_user(f"fan{n}").username for n in range(12)]
    newcomer = make_user("newcomer", trust_level=0)
    before = count(app, Notification)
    body = " ".join(f"@{name}" for name in names)
    assert post_as(newcomer, body).status_code == 403
    assert count(app, Notification) == before


def test_new_thread_and_edit_are_checked_too(app, make_user, token_for, post_as):
    newcomer = make_user("newcomer", trust_level=0)
    client, headers = app.test_client(), token_for(newcomer)
    refused = client.post(
        "/api/v1/threads",
        json={"category": "general", "title": "Spam spam", "body": THREE_LINKS},
        headers=headers,
    )
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "trust_level_required"
    created = post_as(newcomer, "an honest reply")
    post_id = created.get_json()["id"]
    edited = client.patch(f"/api/v1/posts/{post_id}", json={"body": AN_IMAGE}, headers=headers)
    assert edited.status_code == 403
    with app_context(app):
        assert db.session.get(Post, post_id).body == "an honest reply"


def test_staff_are_exempt(make_user, post_as):
    moderator = make_user("mod", role="moderator", trust_level=0)
    assert post_as(moderator, THREE_LINKS + " " + AN_IMAGE).status_code == 201


def test_the_html_form_shows_the_refusal(app, make_user, thread):
    from tests.conftest import login

    newcomer = make_user("newcomer", trust_level=0)
    client = app.test_client()
    login(client, newcomer)
    response = client.post(f"/t/{thread}/reply", data={"body": AN_IMAGE})
    assert response.status_code in (403, 422)
    assert "Trust level 1" in response.get_data(as_text=True)
    assert count(app, Post, Post.thread_id == thread) == 1


# --- chat ------------------------------------------------------------------------------


def _user(user_ref):
    return db.session.get(User, user_ref.id)


def test_tl0_cannot_open_direct_messages_or_create_rooms(app, make_user):
    newcomer = make_user("newcomer", trust_level=0)
    other = make_user("other")
    with app_context(app), app.test_request_context("/"):
        rooms = count(app, ChatRoom)
        with pytest.raises(Forbidden) as direct:
            chat.open_direct(_user(newcomer), _user(other))
        assert direct.value.code == "trust_level_required"
        with pytest.raises(Forbidden) as private:
            chat.create_private_room(_user(newcomer), "My club")
        assert private.value.code == "trust_level_required"
        db.session.rollback()
        assert count(app, ChatRoom) == rooms
        # Lifted at TL1.
        basic = make_user("basic", trust_level=1)
        assert chat.open_direct(_user(basic), _user(other)).is_direct
        assert chat.create_private_room(_user(basic), "Basic club").kind == "private"


def test_tl0_cannot_write_into_a_direct_room_someone_opened(app, make_user):
    newcomer = make_user("newcomer", trust_level=0)
    other = make_user("other")
    with app_context(app), app.test_request_context("/"):
        room = chat.open_direct(_user(other), _user(newcomer))
        db.session.commit()
        with pytest.raises(Forbidden):
            chat.send_message(_user(newcomer), room, "hello")
        db.session.rollback()
        assert count(app, ChatMessage) == 0


def test_tl0_chat_message_link_limit_on_the_socket(app, make_user):
    from forum.extensions import socketio

    admin = make_user("chatadmin", role="admin")
    newcomer = make_user("newcomer", trust_level=0)
    with app_context(app), app.test_request_context("/"):
        chat.create_public_room(_user(admin), "general", "General")
        db.session.commit()
    from tests.conftest import login

    client = app.test_client()
    login(client, newcomer)
    sock = socketio.test_client(app, namespace="/chat", flask_test_client=client)
    sock.emit("join", {"room": "general"}, namespace="/chat", callback=True)
    ack = sock.emit(
        "send", {"room": "general", "body": THREE_LINKS}, namespace="/chat", callback=True
    )
    assert ack["error"]["code"] == "trust_level_required"
    assert count(app, ChatMessage) == 0
    ok = sock.emit(
        "send", {"room": "general", "body": "hello all"}, namespace="/chat", callback=True
    )
    assert "error" not in ok
    sock.disconnect(namespace="/chat")


# --- newcomer delays --------------------------------------------------------------------


@pytest.fixture
def config_overrides():
    return {}


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True}])
def test_newcomer_post_delay_then_lifted_at_tl1(app, make_user, post_as, config_overrides):
    newcomer = make_user("newcomer", trust_level=0)
    assert post_as(newcomer, "first").status_code == 201
    second = post_as(newcomer, "second")
    assert second.status_code == 429
    assert "trust level 1" in second.get_json()["error"]["message"]
    basic = make_user("basic", trust_level=1)
    assert post_as(basic, "first").status_code == 201
    assert post_as(basic, "second").status_code == 201


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True}])
def test_newcomer_chat_delay(app, make_user, config_overrides):
    admin = make_user("chatadmin", role="admin")
    newcomer = make_user("newcomer", trust_level=0)
    with app_context(app), app.test_request_context("/"):
        room = chat.create_public_room(_user(admin), "general", "General")
        db.session.commit()
        chat.send_message(_user(newcomer), room, "one")
        db.session.commit()
        with pytest.raises(RateLimited):
            chat.send_message(_user(newcomer), room, "two")
        db.session.rollback()
    assert count(app, ChatMessage) == 1
