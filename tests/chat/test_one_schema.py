"""The chat API and the /chat socket validate with the same models and the same limits."""

import pytest

from forum.chat import schemas, service
from forum.chat.models import ChatMessage, ChatRoom
from forum.errors import ValidationFailed
from tests.chat.conftest import NS, count_rows


@pytest.fixture
def alice(make_user):
    return make_user("alice")


def test_a_public_room_slug_has_one_limit_at_every_door(app, make_user, token_for):
    mod = make_user("mod", role="moderator")
    longest, too_long = "a" * schemas.NEW_SLUG_MAX, "a" * (schemas.NEW_SLUG_MAX + 1)
    api = app.test_client()
    refused = api.post(
        "/api/v1/chat/rooms", json={"slug": too_long, "name": "Long"}, headers=token_for(mod)
    )
    assert refused.status_code == 422 and "slug" in refused.get_json()["error"]["fields"]
    with pytest.raises(ValidationFailed):
        service.check_slug(too_long)
    assert service.check_slug(longest) == longest
    made = api.post(
        "/api/v1/chat/rooms", json={"slug": longest, "name": "Long"}, headers=token_for(mod)
    )
    assert made.status_code == 201
    assert count_rows(app, ChatRoom) == 1


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"room": "general", "body": "hi", "nonce": "x" * (schemas.NONCE_MAX + 1)}, "nonce"),
        ({"room": "x" * (schemas.ROOM_SLUG_MAX + 1), "body": "hi"}, "room"),
        ({"room": "general", "body": "hi", "colour": "red"}, "colour"),
    ],
)
def test_the_socket_refuses_what_the_api_model_refuses(
    app, make_room, alice, client_for, chat_socket, payload, field
):
    make_room("general")
    ack = chat_socket(client_for(alice)).emit("send", payload, namespace=NS, callback=True)
    assert ack["error"]["code"] == "invalid" and field in ack["error"]["fields"]
    assert count_rows(app, ChatMessage) == 0


def test_a_socket_mute_uses_the_api_mute_limits(
    app, make_room, make_user, client_for, chat_socket, token_for
):
    make_room("general")
    mod, target = make_user("mia", role="moderator"), make_user("tom")
    sock = chat_socket(client_for(mod))
    too_long = schemas.MUTE_MAX_MINUTES + 1
    ack = sock.emit(
        "mute",
        {"room": "general", "username": target.username, "minutes": too_long},
        namespace=NS,
        callback=True,
    )
    assert ack["error"]["code"] == "invalid" and "minutes" in ack["error"]["fields"]
    api = app.test_client().post(
        "/api/v1/chat/rooms/general/mutes",
        json={"username": target.username, "minutes": too_long},
        headers=token_for(mod),
    )
    assert api.status_code == 422 and "minutes" in api.get_json()["error"]["fields"]
