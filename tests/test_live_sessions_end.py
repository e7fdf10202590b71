"""A user's sockets close in every namespace when their session ends: logout, password
change, suspension. Nothing more reaches them (notifications, private rooms)."""

import pytest

from forum import realtime
from forum.extensions import socketio
from tests.conftest import login

LIVE = "/live"


def live_socket(app, user_client):
    sock = socketio.test_client(app, namespace=LIVE, flask_test_client=user_client)
    assert sock.is_connected(LIVE)
    return sock


def test_logout_closes_the_users_live_sockets(app, member):
    client = app.test_client()
    login(client, member)
    first, second = live_socket(app, client), live_socket(app, client)
    bystander = socketio.test_client(app, namespace=LIVE)  # anonymous: untouched
    assert client.post("/logout").status_code == 302
    assert not first.is_connected(LIVE) and not second.is_connected(LIVE)
    assert bystander.is_connected(LIVE)


def test_password_change_closes_the_users_live_sockets(app, member):
    client = app.test_client()
    login(client, member)
    sock = live_socket(app, client)
    changed = client.post(
        "/settings/password",
        data={"pw-current_password": member.password, "pw-new_password": "a fresh long phrase"},
    )
    assert changed.status_code == 302
    assert not sock.is_connected(LIVE)


def test_suspension_closes_the_users_sockets_in_every_namespace(app, member, make_user):
    client = app.test_client()
    login(client, member)
    live = live_socket(app, client)
    chat = socketio.test_client(app, namespace="/chat", flask_test_client=client)
    assert chat.is_connected("/chat")
    moderator = make_user("mod", role="moderator")
    mod_client = app.test_client()
    login(mod_client, moderator)
    mod_live = live_socket(app, mod_client)
    suspended = mod_client.post(
        f"/mod/u/{member.username}/suspend", data={"days": "3", "reason": "Spam links"}
    )
    assert suspended.status_code == 302
    assert not live.is_connected(LIVE) and not chat.is_connected("/chat")
    assert mod_live.is_connected(LIVE)


def test_a_token_socket_closes_when_its_user_logs_out_elsewhere(app, member, token_for):
    token = token_for(member)["Authorization"].removeprefix("Bearer ")
    sock = socketio.test_client(app, namespace=LIVE, auth={"token": token})
    assert sock.is_connected(LIVE)
    client = app.test_client()
    login(client, member)
    client.post("/logout")
    assert not sock.is_connected(LIVE)


@pytest.mark.parametrize("room", ["general", "user:", "user:x", "thread:1"])
def test_only_user_rooms_close_sockets(room):
    assert not realtime.is_user_room(room)


def test_closing_a_user_room_reaches_the_manager_that_holds_it(app, member):
    """Through a message queue the close is replayed in every process and each one ends
    in ``basic_close_room``: the mixin disconnects there, whatever process it is."""
    client = app.test_client()
    login(client, member)
    sock = live_socket(app, client)
    manager = socketio.server.manager
    assert isinstance(manager, realtime.UserRoomsCloseSockets)
    with app.app_context():
        manager.basic_close_room(f"user:{member.id}", LIVE)
    assert not sock.is_connected(LIVE)
