"""Logging out through one server process closes the user's sockets on another
(two real processes sharing Socket.IO rooms through Redis)."""

import pytest
import requests
import socketio as socketio_client

from tests.chat.test_multiprocess import wait_until
from tests.e2e.conftest import start_server

pytestmark = [pytest.mark.multiprocess, pytest.mark.xdist_group("chat-multiprocess")]


@pytest.fixture
def two_servers(app, database_uri, tmp_path, redis_url):
    env = {"FORUM_SOCKETIO_MESSAGE_QUEUE": redis_url, "FORUM_WTF_CSRF_ENABLED": "false"}
    servers = [start_server(database_uri, tmp_path, env), start_server(database_uri, tmp_path, env)]
    yield servers
    for server in servers:
        server.stop()


def _socket(url, namespace, token):
    client = socketio_client.Client(reconnection=False)
    client.connect(
        url,
        namespaces=[namespace],
        auth={"token": token},
        transports=["websocket"],
        wait_timeout=10,
    )
    return client


def test_logout_on_one_process_closes_the_users_sockets_on_the_other(
    app, make_user, token_for, two_servers
):
    first, second = two_servers
    member, other = make_user("roamer"), make_user("stayer")
    secret = token_for(member)["Authorization"].removeprefix("Bearer ")
    live = _socket(first.url, "/live", secret)
    chat = _socket(first.url, "/chat", secret)
    bystander = _socket(first.url, "/live", token_for(other)["Authorization"][7:])
    try:
        browser = requests.Session()
        logged_in = browser.post(
            second("/login"),
            data={"username": member.username, "password": member.password},
            allow_redirects=False,
            timeout=10,
        )
        assert logged_in.status_code == 302
        assert browser.post(second("/logout"), allow_redirects=False, timeout=10).status_code == 302
        wait_until(
            lambda: not live.connected and not chat.connected,
            10,
            "sockets on the other process to close",
        )
        assert bystander.connected
    finally:
        for client in (live, chat, bystander):
            if client.connected:
                client.disconnect()
