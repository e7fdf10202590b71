"""Per-member chat rate limit (on here; RATELIMIT_ENABLED switches it off everywhere else)."""

import pytest

from forum.chat.models import ChatMessage
from tests.chat.conftest import NS, count_rows


@pytest.fixture
def config_overrides():
    return {"RATELIMIT_ENABLED": True, "CHAT_MESSAGE_LIMIT": "5/10second"}


def test_the_sixth_message_in_ten_seconds_is_refused_with_a_clear_error(
    app, make_user, make_room, client_for, chat_socket, time_machine
):
    from forum.clock import now

    time_machine.move_to(now(), tick=False)
    slug = make_room("general")
    alice, bob = make_user("alice"), make_user("bob")
    a, b = chat_socket(client_for(alice)), chat_socket(client_for(bob))
    a.emit("join", {"room": slug}, namespace=NS, callback=True)
    for n in range(5):
        assert "id" in a.emit("send", {"room": slug, "body": f"m{n}"}, namespace=NS, callback=True)
    ack = a.emit("send", {"room": slug, "body": "one too many"}, namespace=NS, callback=True)
    assert ack["error"]["code"] == "rate_limited"
    assert "too fast" in ack["error"]["message"] and "Wait 10 s" in ack["error"]["message"]
    assert count_rows(app, ChatMessage) == 5
    # The limit is per member: bob is not slowed down by alice.
    assert "id" in b.emit("send", {"room": slug, "body": "bob here"}, namespace=NS, callback=True)
    time_machine.shift(11)
    assert "id" in a.emit(
        "send", {"room": slug, "body": "after the window"}, namespace=NS, callback=True
    )
    assert count_rows(app, ChatMessage) == 7


def test_the_api_shares_the_limit_and_answers_429(app, make_user, make_room, token_for):
    slug = make_room("general")
    alice = make_user("alice")
    api, headers = app.test_client(), token_for(alice)
    statuses = [
        api.post(
            f"/api/v1/chat/rooms/{slug}/messages", json={"body": f"m{n}"}, headers=headers
        ).status_code
        for n in range(6)
    ]
    assert statuses == [201] * 5 + [429]
    assert count_rows(app, ChatMessage) == 5


def test_a_resend_of_a_stored_message_does_not_count(
    app, make_user, make_room, client_for, chat_socket
):
    slug = make_room("general")
    a = chat_socket(client_for(make_user("alice")))
    for n in range(5):
        a.emit(
            "send", {"room": slug, "body": f"m{n}", "nonce": f"n{n}"}, namespace=NS, callback=True
        )
    again = a.emit("send", {"room": slug, "body": "m4", "nonce": "n4"}, namespace=NS, callback=True)
    assert "id" in again
    assert count_rows(app, ChatMessage) == 5


def test_typing_is_limited_too(app, make_user, make_room, client_for, chat_socket):
    app.config["CHAT_TYPING_LIMIT"] = "2/10second"
    slug = make_room("general")
    a = chat_socket(client_for(make_user("alice")))
    acks = [a.emit("typing", {"room": slug}, namespace=NS, callback=True) for _ in range(3)]
    assert acks[:2] == [{"ok": True}] * 2 and acks[2]["error"]["code"] == "rate_limited"


@pytest.fixture
def few_handshakes(app, config_overrides):
    app.config["SOCKET_CONNECT_LIMIT"] = "3/minute"


def test_an_address_opening_sockets_too_fast_is_refused_on_every_namespace(
    app, make_user, client_for, chat_socket, few_handshakes
):
    from forum.chat.models import ChatConnection
    from forum.extensions import socketio

    alice = client_for(make_user("alice"))
    live = socketio.test_client(app, namespace="/live", flask_test_client=alice)
    first, second = chat_socket(alice), chat_socket(alice)
    assert live.is_connected("/live") and first.is_connected(NS) and second.is_connected(NS)
    # The fourth handshake from this address within the minute, whichever namespace and user:
    assert not chat_socket(alice).is_connected(NS)
    bob = client_for(make_user("bob"))
    assert not socketio.test_client(app, namespace="/live", flask_test_client=bob).is_connected(
        "/live"
    )
    assert count_rows(app, ChatConnection) == 2  # nothing registered for the refused ones
    live.disconnect("/live")
