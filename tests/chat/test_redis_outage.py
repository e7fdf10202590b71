"""Redis down (rate-limit storage and message queue): never a 500, the outage logged,
and a chat send that could not be pushed live is not acknowledged as delivered."""

import logging
import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest
import redis
import requests
import socketio as socketio_client

from forum import realtime
from forum.extensions import limiter
from tests.chat.conftest import NS
from tests.conftest import login
from tests.e2e.conftest import start_server

CLOSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture(autouse=True)
def storage_alive_again():
    """Flask-Limiter's "storage dead" flag lives on the extension object every app shares."""
    limiter._storage_dead = False
    yield
    limiter._storage_dead = False


def unreachable_logged(records) -> bool:
    return any("unreachable" in r.getMessage() for r in records)


# --- in process: rate limits on a Redis that refuses connections --------------------


@pytest.fixture
def config_overrides():
    return {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": CLOSED,
        "POST_LIMIT": "2/minute",
        "CHAT_MESSAGE_LIMIT": "2/minute",
        "LOGIN_LIMIT_PER_IP": "50/minute",
    }


def test_logins_and_posts_count_in_memory_while_redis_is_down(
    app, member, make_user, make_thread, token_for, caplog
):
    caplog.set_level(logging.WARNING)
    thread_id = make_thread(make_user("opener"))
    assert login(app.test_client(), member).status_code == 302
    headers = token_for(member)
    codes = [
        app.test_client()
        .post(f"/api/v1/threads/{thread_id}/posts", json={"body": f"reply {i}"}, headers=headers)
        .status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]  # POST_LIMIT still counted, never a 500
    assert unreachable_logged(caplog.records)


def test_chat_limits_on_sockets_count_in_memory_while_redis_is_down(
    app, make_room, make_user, client_for, chat_socket, caplog
):
    caplog.set_level(logging.WARNING)
    room = make_room("general")
    sock = chat_socket(client_for(make_user("talker")))
    acks = [
        sock.emit("send", {"room": room, "body": f"m{i}"}, namespace=NS, callback=True)
        for i in range(3)
    ]
    assert [bool(a.get("id")) for a in acks] == [True, True, False]
    assert acks[2]["error"]["code"] == "rate_limited"
    assert unreachable_logged(caplog.records)


def test_a_push_that_fails_after_the_commit_is_acknowledged_as_not_delivered(
    app, make_room, make_user, client_for, chat_socket, monkeypatch, caplog
):
    caplog.set_level(logging.WARNING)
    room = make_room("general")
    sock = chat_socket(client_for(make_user("talker")))

    def queue_down(item):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(realtime, "_emit", queue_down)
    ack = sock.emit("send", {"room": room, "body": "anyone?"}, namespace=NS, callback=True)
    assert ack["id"] and ack["delivered"] is False
    assert any("not published" in r.getMessage() for r in caplog.records)
    rejoin = sock.emit("join", {"room": room, "since": 0}, namespace=NS, callback=True)
    assert [m["id"] for m in rejoin["missed"]] == [ack["id"]]  # stored: resync gets it


def test_a_publish_redis_refuses_is_reported_not_silent(app, caplog):
    caplog.set_level(logging.WARNING)
    manager = realtime.ReportingRedisManager(CLOSED, channel="plaza-test", write_only=True)
    with app.app_context():
        assert not realtime.undelivered()
        manager._publish({"method": "emit", "event": "message"})
        assert realtime.undelivered()
    assert any("not published" in r.getMessage() for r in caplog.records)


# --- real server processes: a Redis that refuses, and one that stops ----------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis():
    """A throwaway redis-server this test may stop (the shared one must stay up)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("PLAZA_REQUIRE_SERVICES"):  # CI: a skipped outage test is a failure
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_connect_timeout=1)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.RedisError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0", process
    process.kill()
    process.wait()


def redis_env(url: str) -> dict:
    return {
        "FORUM_SOCKETIO_MESSAGE_QUEUE": url,
        "FORUM_RATELIMIT_STORAGE_URI": url,
        "FORUM_RATELIMIT_ENABLED": "true",
        "FORUM_WTF_CSRF_ENABLED": "false",
        "FORUM_LOGIN_LIMIT_PER_IP": '"50/minute"',
        "FORUM_POST_LIMIT": '"50/minute"',
    }


def chat_client(url: str, token: str) -> socketio_client.Client:
    client = socketio_client.Client(reconnection=False)
    client.connect(
        url, namespaces=[NS], auth={"token": token}, transports=["websocket"], wait_timeout=10
    )
    return client


def check_degraded_server(server, member, token, room, thread_id) -> None:
    """Login, post and chat answer (no 500) and the chat ack tells the truth."""
    session = requests.Session()
    page = session.post(
        server.url + "/login",
        data={"username": member.username, "password": member.password},
        allow_redirects=False,
    )
    assert page.status_code == 302, page.status_code
    headers = {"Authorization": f"Bearer {token}"}
    post = requests.post(
        f"{server.url}/api/v1/threads/{thread_id}/posts",
        json={"body": "through the outage"},
        headers=headers,
        timeout=20,
    )
    assert post.status_code == 201, post.text[:300]
    client = chat_client(server.url, token)
    try:
        assert client.call("join", {"room": room}, namespace=NS, timeout=20)["ok"]
        ack = client.call("send", {"room": room, "body": "hello?"}, namespace=NS, timeout=20)
        assert ack["id"] and ack["delivered"] is False, ack
    finally:
        client.disconnect()
    assert "unreachable" in server.log.read_text()


@pytest.fixture
def world(app, make_user, make_room, make_thread, token_for):
    member = make_user("outage")
    token = token_for(member)["Authorization"].removeprefix("Bearer ")
    return member, token, make_room(f"lobby-{uuid.uuid4().hex[:8]}"), make_thread(member)


@pytest.mark.multiprocess
def test_a_server_whose_redis_refuses_connections_degrades_without_errors(
    app, database_uri, tmp_path, world
):
    server = start_server(database_uri, tmp_path, redis_env(CLOSED))
    try:
        check_degraded_server(server, *world)
    finally:
        server.stop()


@pytest.mark.multiprocess
@pytest.mark.redis
def test_a_server_whose_redis_stops_degrades_without_errors(
    app, database_uri, tmp_path, world, own_redis
):
    url, process = own_redis
    member, token, room, thread_id = world
    server = start_server(database_uri, tmp_path, redis_env(url))
    try:
        client = chat_client(server.url, token)
        try:
            assert client.call("join", {"room": room}, namespace=NS, timeout=20)["ok"]
            ack = client.call("send", {"room": room, "body": "before"}, namespace=NS, timeout=20)
            assert ack["delivered"] is True, ack
        finally:
            client.disconnect()
        process.kill()
        process.wait()
        check_degraded_server(server, member, token, room, thread_id)
    finally:
        server.stop()
