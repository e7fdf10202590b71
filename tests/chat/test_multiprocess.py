"""Two real server processes sharing rooms through Redis (FORUM_SOCKETIO_MESSAGE_QUEUE).

A member connected to one process receives, in order and without loss, what a
member connected to the other sends; when the receiver's process is killed
mid-stream, the receiver reconnects to the surviving one, resyncs from the last
id it saw, and ends with every message exactly once.
"""

import threading
import time
import uuid

import pytest
import requests
import socketio as socketio_client
from sqlalchemy import func, select

from forum.chat.models import ChatMessage
from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import start_server

# One xdist worker runs these one after another; the room's name is unique per run
# because Redis pub/sub channels are shared by every database number on the server.
pytestmark = [pytest.mark.multiprocess, pytest.mark.xdist_group("chat-multiprocess")]
NS = "/chat"


def launch(database_uri, tmp_path, extra_env=None):
    return start_server(database_uri, tmp_path, extra_env)


def stop(server) -> None:
    server.stop()


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class _Done:
    def join(self, timeout=None) -> None:
        pass


def _run_inline(target, *args, **kwargs):
    target(*args, **kwargs)
    return _Done()


class Member:
    """A python-socketio client that keeps messages like the browser does: once per id."""

    def __init__(self, token: str, room: str):
        self.token = token
        self.room = room
        self.client: socketio_client.Client | None = None
        self.messages: dict[int, str] = {}
        self.arrival: list[int] = []  # ids in the order they arrived live
        self.resynced = 0  # kept from a join's or sync's "missed" list
        self.duplicates = 0
        self.lock = threading.Lock()

    def keep(self, message: dict, *, live: bool) -> None:
        with self.lock:
            if message["id"] in self.messages:
                self.duplicates += 1  # live and resync overlap: kept once
                return
            self.messages[message["id"]] = message["body"]
            if live:
                self.arrival.append(message["id"])
            else:
                self.resynced += 1

    def connect(self, url: str, *, since: int | None = None) -> dict:
        client = socketio_client.Client(reconnection=False)
        client.on("message", lambda message: self.keep(message, live=True), namespace=NS)
        client.connect(
            url,
            namespaces=[NS],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=10,
        )
        # Engine.IO's client runs every incoming packet's handler in a new thread, which
        # shuffles arrival order on the client side; run them in the reading thread so
        # the test sees the order the server delivered in.
        client.eio.start_background_task = _run_inline
        self.client = client
        payload = {"room": self.room} if since is None else {"room": self.room, "since": since}
        ack = client.call("join", payload, namespace=NS, timeout=10)
        assert ack.get("ok"), ack
        missed, more = ack.get("missed", []), ack.get("more", False)
        while True:
            for message in missed:
                self.keep(message, live=False)
            if not more:
                break
            page = client.call(
                "sync", {"room": self.room, "after": max(self.messages)}, namespace=NS, timeout=10
            )
            missed, more = page["missed"], page["more"]
        return ack

    def send(self, body: str) -> int:
        ack = self.client.call(
            "send", {"room": self.room, "body": body, "nonce": body}, namespace=NS, timeout=10
        )
        assert "id" in ack, ack
        return ack["id"]

    def close(self) -> None:
        if self.client is not None and self.client.connected:
            self.client.disconnect()


@pytest.fixture
def two_servers(app, database_uri, tmp_path, redis_url):
    # ``app`` first: its fixture has built the database both processes share.
    env = {"FORUM_SOCKETIO_MESSAGE_QUEUE": redis_url}
    servers = [launch(database_uri, tmp_path, env), launch(database_uri, tmp_path, env)]
    yield servers
    for server in servers:
        stop(server)


@pytest.fixture
def members(make_user, make_room, token_for):
    room = make_room(f"lobby-{uuid.uuid4().hex[:8]}")
    made = {}
    for name in ("sender", "receiver"):
        user = make_user(name)
        made[name] = Member(token_for(user)["Authorization"].removeprefix("Bearer "), room)
    yield made
    for member in made.values():
        member.close()


def stored_count(app) -> int:
    with app_context(app):
        return db.session.scalar(select(func.count()).select_from(ChatMessage))


# ``members`` before ``two_servers``: the servers stop first at teardown, so the clients
# need not wait out websocket-client's 3 s close handshake.
def test_a_message_sent_through_one_process_reaches_a_member_on_the_other(
    app, members, two_servers
):
    first, second = two_servers
    sender, receiver = members["sender"], members["receiver"]
    receiver.connect(first.url)
    sender.connect(second.url)

    bodies = [f"m{n:03d}" for n in range(500)]
    sent = [sender.send(body) for body in bodies]

    wait_until(
        lambda: len(receiver.messages) == len(bodies), 20, "all 500 messages on the other process"
    )
    assert receiver.arrival == sent  # live, in order, none missing, none twice
    assert [receiver.messages[i] for i in receiver.arrival] == bodies
    assert receiver.duplicates == 0
    assert stored_count(app) == 500


def test_killing_a_process_mid_stream_loses_nothing(app, members, two_servers):
    doomed, survivor = two_servers
    sender, receiver = members["sender"], members["receiver"]
    receiver.connect(doomed.url)
    sender.connect(survivor.url)

    bodies = [f"k{n:03d}" for n in range(300)]
    sent: list[int] = []
    failures: list[BaseException] = []

    def send_all() -> None:
        try:
            for body in bodies:
                sent.append(sender.send(body))
                time.sleep(0.002)  # a steady stream, so the kill lands mid-way
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    stream = threading.Thread(target=send_all)
    stream.start()
    wait_until(lambda: len(receiver.messages) >= 100, 20, "the first 100 messages")
    doomed.process.kill()  # no goodbye: the receiver's socket just dies
    doomed.process.wait()
    sent_at_kill = len(sent)
    wait_until(lambda: not receiver.client.connected, 10, "the receiver to notice")
    seen_before_kill = list(receiver.arrival)
    assert seen_before_kill == sorted(seen_before_kill)

    receiver.connect(survivor.url, since=max(receiver.messages))  # resync from the last id seen
    stream.join(30)
    assert not failures, failures
    assert len(sent) == len(bodies)
    wait_until(
        lambda: len(receiver.messages) == len(bodies), 20, "every message after the reconnect"
    )

    assert 100 <= sent_at_kill < len(bodies)  # the kill landed mid-stream
    assert receiver.resynced > 0  # what the dead process never delivered came from the resync
    assert sorted(receiver.messages) == sent  # every id, once
    assert [receiver.messages[i] for i in sent] == bodies  # in the order sent
    assert stored_count(app) == len(bodies)


def test_the_server_refuses_sockets_from_another_origin(app, database_uri, tmp_path):
    server = launch(database_uri, tmp_path)
    try:
        handshake = server.url + "/socket.io/?EIO=4&transport=polling"
        foreign = requests.get(handshake, headers={"Origin": "https://evil.example"}, timeout=5)
        assert foreign.status_code == 400
        same = requests.get(handshake, headers={"Origin": server.url}, timeout=5)
        assert same.status_code == 200 and same.text.startswith("0{")
    finally:
        stop(server)
