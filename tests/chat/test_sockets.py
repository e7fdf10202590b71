"""The /chat namespace with Flask-SocketIO's test client (sharing each member's login cookie)."""

import pytest
from sqlalchemy import select

from forum.chat.models import ChatConnection, ChatMember, ChatMessage, ChatPresence, ChatRoom
from forum.chat.tasks import sweep_connections
from forum.extensions import db, socketio
from forum.moderation.models import AuditEntry
from forum.notifications.models import Notification
from tests.chat.conftest import NS, count_rows, received
from tests.conftest import app_context


@pytest.fixture
def room(make_room):
    return make_room("general")


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def carol(make_user):
    return make_user("carol")


def join(sock, slug, **extra):
    return sock.emit("join", {"room": slug, **extra}, namespace=NS, callback=True)


def send(sock, slug, body, **extra):
    return sock.emit("send", {"room": slug, "body": body, **extra}, namespace=NS, callback=True)


def room_id(app, slug) -> int:
    with app_context(app):
        return db.session.scalar(select(ChatRoom.id).where(ChatRoom.slug == slug))


def messages_in(app, slug) -> list[str]:
    with app_context(app):
        return list(
            db.session.scalars(
                select(ChatMessage.body)
                .join(ChatRoom)
                .where(ChatRoom.slug == slug)
                .order_by(ChatMessage.id)
            )
        )


# --- connecting ------------------------------------------------------------------------


def test_anonymous_sockets_are_refused(app, room):
    sock = socketio.test_client(app, namespace=NS)
    assert not sock.is_connected(NS)
    sock = socketio.test_client(app, namespace=NS, auth={"token": "plz_not-a-real-token"})
    assert not sock.is_connected(NS)
    assert count_rows(app, ChatConnection) == 0


def test_an_api_token_authenticates_a_socket(app, room, alice, token_for, chat_socket):
    token = token_for(alice)["Authorization"].removeprefix("Bearer ")
    sock = chat_socket(auth={"token": token})
    assert sock.is_connected(NS)
    assert join(sock, room)["ok"] is True
    ack = send(sock, room, "hello from a token")
    assert isinstance(ack["id"], int)
    assert messages_in(app, room) == ["hello from a token"]


# --- sending and receiving ---------------------------------------------------------------


def test_members_receive_every_message_in_order(app, room, alice, bob, client_for, chat_socket):
    a, b = chat_socket(client_for(alice)), chat_socket(client_for(bob))
    assert join(a, room)["ok"] and join(b, room)["ok"]
    b.get_received(NS)
    acks = [send(a, room, f"message {n}") for n in range(20)]
    got = received(b, "message")
    assert [m["body_html"] for m in got] == [f"<p>message {n}</p>" for n in range(20)]
    assert [m["id"] for m in got] == [ack["id"] for ack in acks]
    assert [m["id"] for m in got] == sorted(m["id"] for m in got)
    assert [m["seq"] for m in got] == list(range(1, 21))
    first = got[0]
    assert {"id", "room", "author", "body_html", "embeds", "created_at"} <= first.keys()
    assert (
        first["room"] == room and first["author"]["username"] == "alice" and first["embeds"] == []
    )
    # The sender is in the room too and sees its own messages.
    assert len(received(a, "message")) == 20


def test_messages_are_markdown_sanitized_like_posts(app, room, alice, client_for, chat_socket):
    a = chat_socket(client_for(alice))
    join(a, room)
    send(
        a,
        room,
        "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
    )
    (message,) = received(a, "message")
    html = message["body_html"]
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


def test_embeds_are_listed_with_their_links(app, room, alice, client_for, chat_socket):
    a = chat_socket(client_for(alice))
    join(a, room)
    send(a, room, "look [[product:42]] and [[event:7]]")
    (message,) = received(a, "message")
    assert [(e["kind"], e["id"]) for e in message["embeds"]] == [("product", 42), ("event", 7)]
    assert all(e["href"].startswith("/") for e in message["embeds"])
    assert 'kind="product" ref="42"' in message["body_html"]


def test_joining_with_since_returns_what_was_missed_once(
    app, room, alice, bob, client_for, chat_socket
):
    a = chat_socket(client_for(alice))
    join(a, room)
    ids = [send(a, room, f"m{n}")["id"] for n in range(6)]
    b = chat_socket(client_for(bob))
    ack = join(b, room, since=ids[2])
    assert [m["id"] for m in ack["missed"]] == ids[3:]
    assert ack["more"] is False and ack["last_id"] == ids[-1] and ack["last_seq"] == 6
    # Nothing newer than what the client has: nothing missed.
    assert join(b, room, since=ids[-1])["missed"] == []


def test_sync_pages_forward_and_reports_deletions(
    app, room, alice, client_for, chat_socket, monkeypatch
):
    from forum.chat.service import messages

    monkeypatch.setattr(messages, "SYNC_PAGE", 2)
    a = chat_socket(client_for(alice))
    join(a, room)
    ids = [send(a, room, f"m{n}")["id"] for n in range(5)]
    assert a.emit("delete", {"id": ids[1]}, namespace=NS, callback=True)["ok"]
    page = a.emit(
        "sync", {"room": room, "after": ids[0], "check_from": ids[0]}, namespace=NS, callback=True
    )
    assert [m["id"] for m in page["missed"]] == ids[2:4] and page["more"] is True
    assert page["deleted"] == []  # nothing the client had (up to ids[0]) was deleted
    page = a.emit("sync", {"room": room, "after": ids[3]}, namespace=NS, callback=True)
    assert [m["id"] for m in page["missed"]] == ids[4:] and page["more"] is False
    # A client that showed ids[0..3] learns ids[1] is gone.
    page = a.emit(
        "sync", {"room": room, "after": ids[3], "check_from": ids[0]}, namespace=NS, callback=True
    )
    assert page["deleted"] == [ids[1]]


def test_a_reconnecting_client_ends_with_every_message_exactly_once(
    app, room, alice, bob, client_for, chat_socket
):
    a = chat_socket(client_for(alice))
    join(a, room)
    bob_client = client_for(bob)
    b = chat_socket(bob_client)
    join(b, room)
    seen = {}
    for n in range(3):
        send(a, room, f"before {n}")
    for m in received(b, "message"):
        seen[m["id"]] = m["body_html"]
    b.disconnect(NS)  # e.g. its server process went away
    for n in range(4):
        send(a, room, f"while away {n}")
    b = chat_socket(bob_client)
    ack = join(b, room, since=max(seen))
    for m in ack["missed"]:
        assert m["id"] not in seen
        seen[m["id"]] = m["body_html"]
    send(a, room, "after")
    for m in received(b, "message"):
        seen.setdefault(m["id"], m["body_html"])
    assert [seen[i] for i in sorted(seen)] == (
        [f"<p>before {n}</p>" for n in range(3)]
        + [f"<p>while away {n}</p>" for n in range(4)]
        + ["<p>after</p>"]
    )


def test_a_resend_with_the_same_nonce_is_stored_once(app, room, alice, client_for, chat_socket):
    a = chat_socket(client_for(alice))
    join(a, room)
    first = send(a, room, "only once", nonce="n-1")
    again = send(a, room, "only once", nonce="n-1")
    assert first["id"] == again["id"]
    assert messages_in(app, room) == ["only once"]
    assert len(received(a, "message")) == 1
    # The resend took the room's seq to wait on the original and gave it back: no gap.
    assert send(a, room, "the next one", nonce="n-2")["seq"] == first["seq"] + 1


# --- refusals ------------------------------------------------------------------------------


def test_a_non_member_cannot_join_or_write_a_private_room(
    app, alice, bob, carol, make_private_room, client_for, chat_socket
):
    slug = make_private_room(alice, [bob])
    a, c = chat_socket(client_for(alice)), chat_socket(client_for(carol))
    join(a, slug)
    rid = room_id(app, slug)
    members_before = count_rows(app, ChatMember, ChatMember.room_id == rid)

    ack = join(c, slug)
    assert ack["error"]["code"] == "not_found"
    assert send(c, slug, "let me in")["error"]["code"] == "not_found"
    assert (
        c.emit("sync", {"room": slug, "after": 0}, namespace=NS, callback=True)["error"]["code"]
        == "not_found"
    )
    assert (
        c.emit("typing", {"room": slug}, namespace=NS, callback=True)["error"]["code"]
        == "not_found"
    )

    assert count_rows(app, ChatMember, ChatMember.room_id == rid) == members_before
    assert count_rows(app, ChatMessage, ChatMessage.room_id == rid) == 0
    with app_context(app):
        carol_sids = db.session.scalars(
            select(ChatConnection.sid).where(ChatConnection.user_id == carol.id)
        ).all()
        assert count_rows(app, ChatPresence, ChatPresence.sid.in_(carol_sids)) == 0
    # Carol never receives the room's messages.
    c.get_received(NS)
    send(a, slug, "members only")
    assert received(c, "message") == []


def test_a_third_member_cannot_read_a_direct_conversation(
    app, alice, bob, carol, make_direct, client_for, chat_socket
):
    slug = make_direct(alice, bob)
    c = chat_socket(client_for(carol))
    assert join(c, slug)["error"]["code"] == "not_found"
    assert send(c, slug, "psst")["error"]["code"] == "not_found"
    b = chat_socket(client_for(bob))
    assert join(b, slug)["ok"] and send(b, slug, "hi alice")["id"]
    assert messages_in(app, slug) == ["hi alice"]


def test_too_long_messages_are_refused_with_a_clear_error(
    app, room, alice, client_for, chat_socket
):
    limit = app.config["CHAT_MAX_MESSAGE_LENGTH"]
    a = chat_socket(client_for(alice))
    join(a, room)
    ack = send(a, room, "x" * (limit + 1))
    assert ack["error"]["code"] == "too_long"
    assert f"{limit:,}" in ack["error"]["fields"]["body"][0]
    assert messages_in(app, room) == []
    assert received(a, "message") == []
    assert isinstance(send(a, room, "y" * limit)["id"], int)


@pytest.mark.parametrize(
    "payload, code",
    [
        ("not an object", "invalid"),
        ({"body": "no room"}, "invalid"),
        ({"room": "general", "body": "   "}, "empty"),
        ({"room": "general", "body": 42}, "empty"),
        ({"room": "general", "body": "hi", "nonce": "x" * 65}, "invalid"),
        ({"room": "nowhere", "body": "hi"}, "not_found"),
        ({"room": ["general"], "body": "hi"}, "invalid"),
    ],
)
def test_malformed_sends_get_an_error_ack_and_store_nothing(
    app, room, alice, client_for, chat_socket, payload, code
):
    a = chat_socket(client_for(alice))
    ack = a.emit("send", payload, namespace=NS, callback=True)
    assert ack["error"]["code"] == code
    assert count_rows(app, ChatMessage) == 0


def test_malformed_ids_are_refused(app, room, alice, client_for, chat_socket):
    a = chat_socket(client_for(alice))
    for payload in (
        {"room": room, "since": "abc"},
        {"room": room, "since": -1},
        {"room": room, "since": True},
    ):
        assert (
            join(a, room, **{k: v for k, v in payload.items() if k != "room"})["error"]["code"]
            == "invalid"
        )
    assert (
        a.emit("delete", {"id": "1; drop"}, namespace=NS, callback=True)["error"]["code"]
        == "invalid"
    )
    assert (
        a.emit("delete", {"id": 999}, namespace=NS, callback=True)["error"]["code"] == "not_found"
    )


# --- moderation ------------------------------------------------------------------------------


def test_a_moderator_deletes_a_message_for_everyone(
    app, room, alice, bob, make_user, client_for, chat_socket
):
    mod = make_user("mia", role="moderator")
    a, b, m = (chat_socket(client_for(u)) for u in (alice, bob, mod))
    for sock in (a, b, m):
        join(sock, room)
    bad = send(a, room, "something rude")["id"]
    keep = send(a, room, "something fine")["id"]
    for sock in (a, b, m):
        sock.get_received(NS)

    # Another member may not delete it.
    assert (
        b.emit("delete", {"id": bad}, namespace=NS, callback=True)["error"]["code"] == "forbidden"
    )
    assert received(a, "message_deleted") == []

    no_reason = m.emit("delete", {"id": bad}, namespace=NS, callback=True)
    assert "reason" in no_reason["error"]["fields"]
    deleted = m.emit("delete", {"id": bad, "reason": "spam"}, namespace=NS, callback=True)
    assert deleted == {"ok": True, "id": bad}
    for sock in (a, b, m):
        assert received(sock, "message_deleted") == [{"id": bad, "room": room}]
    history = client_for(bob).get(f"/api/v1/chat/rooms/{room}/messages").get_json()
    assert [item["id"] for item in history["items"]] == [keep]
    with app_context(app):
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "chat.message.delete")
        )
        assert entry.actor_id == mod.id and entry.target_id == bad and entry.params["room"] == room
    # Deleting it again: it is gone.
    assert (
        m.emit("delete", {"id": bad}, namespace=NS, callback=True)["error"]["code"] == "not_found"
    )


def test_authors_delete_their_own_messages_without_an_audit_entry(
    app, room, alice, client_for, chat_socket
):
    a = chat_socket(client_for(alice))
    join(a, room)
    mid = send(a, room, "oops")["id"]
    assert a.emit("delete", {"id": mid}, namespace=NS, callback=True)["ok"]
    assert count_rows(app, AuditEntry) == 0


def test_a_muted_member_cannot_post_until_the_mute_ends(
    app, room, alice, bob, make_user, client_for, chat_socket, time_machine
):
    from forum.clock import now

    time_machine.move_to(now(), tick=False)
    mod = make_user("mia", role="moderator")
    b, m = chat_socket(client_for(bob)), chat_socket(client_for(mod))
    join(b, room)
    join(m, room)
    b.get_received(NS)

    ack = m.emit(
        "mute",
        {"room": room, "username": "bob", "minutes": 10, "reason": "spam"},
        namespace=NS,
        callback=True,
    )
    assert ack["ok"] is True
    (note,) = received(b, "muted")
    assert note["user"]["id"] == bob.id and note["until"] == ack["until"]

    refused = send(b, room, "can I still talk?")
    assert refused["error"]["code"] == "muted"
    assert "muted" in refused["error"]["message"]
    assert b.emit("typing", {"room": room}, namespace=NS, callback=True)["error"]["code"] == "muted"
    assert messages_in(app, room) == []
    with app_context(app):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "chat.mute"))
        assert entry.actor_id == mod.id and entry.target_id == bob.id
        assert (
            entry.params["room"] == room
            and entry.params["minutes"] == 10
            and entry.reason == "spam"
        )

    time_machine.shift(9 * 60)
    assert send(b, room, "now?")["error"]["code"] == "muted"
    time_machine.shift(61)
    assert isinstance(send(b, room, "back again")["id"], int)


def test_only_moderators_mute_and_only_admins_mute_moderators(
    app, room, alice, bob, make_user, client_for, chat_socket
):
    mod = make_user("mia", role="moderator")
    make_user("max", role="moderator")
    a, m = chat_socket(client_for(alice)), chat_socket(client_for(mod))
    ack = a.emit(
        "mute", {"room": room, "username": "bob", "minutes": 5}, namespace=NS, callback=True
    )
    assert ack["error"]["code"] == "forbidden"
    ack = m.emit(
        "mute", {"room": room, "username": "max", "minutes": 5}, namespace=NS, callback=True
    )
    assert ack["error"]["code"] == "forbidden"
    for minutes in (0, -5, 10_081, "ten", True, None):
        ack = m.emit(
            "mute",
            {"room": room, "username": "bob", "minutes": minutes},
            namespace=NS,
            callback=True,
        )
        assert ack["error"]["code"] == "invalid" and "minutes" in ack["error"]["fields"]
    ack = m.emit(
        "mute", {"room": room, "username": "nobody", "minutes": 5}, namespace=NS, callback=True
    )
    assert ack["error"]["code"] == "not_found"
    assert count_rows(app, AuditEntry) == 0


# --- presence, typing, unread, mentions -----------------------------------------------------


def test_presence_and_typing(app, room, alice, bob, client_for, chat_socket):
    a, b = chat_socket(client_for(alice)), chat_socket(client_for(bob))
    assert [u["username"] for u in join(a, room)["online"]] == ["alice"]
    a.get_received(NS)
    ack = join(b, room)
    assert [u["username"] for u in ack["online"]] == ["alice", "bob"]
    assert received(a, "presence") == [
        {
            "room": room,
            "user": {
                "id": bob.id,
                "username": "bob",
                "trust_level": 1,
                "initials": "BO",
                "hue": bob.id * 7 % 12,
            },
            "online": True,
        }
    ]

    assert b.emit("typing", {"room": room}, namespace=NS, callback=True) == {"ok": True}
    assert received(a, "typing") == [
        {"room": room, "user": {"id": bob.id, "username": "bob", "trust_level": 1}}
    ]
    assert received(b, "typing") == []  # not echoed to the typist

    b.disconnect(NS)
    (gone,) = received(a, "presence")
    assert gone["user"]["id"] == bob.id and gone["online"] is False
    who = a.emit("who", {"room": room}, namespace=NS, callback=True)
    assert [u["username"] for u in who["online"]] == ["alice"]


def test_a_second_tab_keeps_a_member_online(app, room, alice, bob, client_for, chat_socket):
    a = chat_socket(client_for(alice))
    join(a, room)
    bob_client = client_for(bob)
    b1, b2 = chat_socket(bob_client), chat_socket(bob_client)
    join(b1, room)
    join(b2, room)
    a.get_received(NS)
    b1.disconnect(NS)
    assert received(a, "presence") == []  # still online in the other tab
    b2.disconnect(NS)
    assert [p["online"] for p in received(a, "presence")] == [False]


def test_unread_counts_follow_reading(app, room, alice, bob, client_for, chat_socket):
    a, b = chat_socket(client_for(alice)), chat_socket(client_for(bob))
    join(a, room)
    join(b, room)
    ids = [send(a, room, f"m{n}")["id"] for n in range(3)]
    bob_api = client_for(bob)
    rooms = bob_api.get("/api/v1/chat/rooms").get_json()["items"]
    assert next(r for r in rooms if r["slug"] == room)["unread"] == 3
    alice_rooms = client_for(alice).get("/api/v1/chat/rooms").get_json()["items"]
    assert next(r for r in alice_rooms if r["slug"] == room)["unread"] == 0  # own messages are read
    b.get_received(NS)
    assert b.emit("read", {"room": room, "id": ids[1]}, namespace=NS, callback=True) == {
        "ok": True,
        "unread": 1,
    }
    assert received(b, "read") == [
        {"room": room, "last_read_id": ids[1]}
    ]  # other tabs clear their badge
    # Reading never moves backwards.
    assert b.emit("read", {"room": room, "id": ids[0]}, namespace=NS, callback=True)["unread"] == 1
    assert b.emit("read", {"room": room}, namespace=NS, callback=True)["unread"] == 0


def test_a_mention_reaches_the_bell_live(app, room, alice, bob, client_for, chat_socket):
    bob_client = client_for(bob)
    bell = socketio.test_client(app, namespace="/live", flask_test_client=bob_client)
    a = chat_socket(client_for(alice))
    join(a, room)
    send(a, room, "hey @bob, look at this (and @nobody)")
    pushes = [e["args"][0] for e in bell.get_received("/live") if e["name"] == "notification"]
    assert (
        len(pushes) == 1 and pushes[0]["unread"] == 1 and "alice mentioned you" in pushes[0]["text"]
    )
    assert pushes[0]["url"].startswith(f"/chat/{room}#m-")
    with app_context(app):
        (note,) = db.session.scalars(
            select(Notification).where(Notification.user_id == bob.id)
        ).all()
        assert note.kind == "chat_mention"
    bell.disconnect("/live")


def test_mentions_never_reveal_a_private_room(
    app, alice, bob, carol, make_private_room, client_for, chat_socket
):
    slug = make_private_room(alice, [bob])
    a = chat_socket(client_for(alice))
    join(a, slug)
    send(a, slug, "@bob and @carol")
    with app_context(app):
        told = set(db.session.scalars(select(Notification.user_id)))
    assert told == {bob.id}


def test_events_leave_only_after_the_commit(app, room, alice, bob, client_for, chat_socket):
    from forum.accounts.models import User
    from forum.chat import service

    b = chat_socket(client_for(bob))
    join(b, room)
    b.get_received(NS)
    with app.app_context(), app.test_request_context("/"):
        user = db.session.get(User, alice.id)
        service.send_message(user, service.get_room(room, viewer=user), "rolled back")
        assert received(b, "message") == []  # not before the commit...
        db.session.rollback()
    assert received(b, "message") == []  # ...and never after a rollback
    assert messages_in(app, room) == []
    with app.app_context(), app.test_request_context("/"):
        user = db.session.get(User, alice.id)
        service.send_message(user, service.get_room(room, viewer=user), "committed")
        db.session.commit()
    assert [m["body"] for m in received(b, "message")] == ["committed"]


# --- private rooms: members come and go ------------------------------------------------------


def test_a_removed_member_stops_receiving_at_once(
    app, alice, bob, carol, make_private_room, client_for, chat_socket, token_for
):
    slug = make_private_room(alice, [bob, carol])
    a, c = chat_socket(client_for(alice)), chat_socket(client_for(carol))
    join(a, slug)
    join(c, slug)
    send(a, slug, "hello both")
    assert len(received(c, "message")) == 1
    response = app.test_client().delete(
        f"/api/v1/chat/rooms/{slug}/members/carol", headers=token_for(alice)
    )
    assert response.status_code == 204
    assert received(c, "room_removed") == [{"room": slug}]
    send(a, slug, "carol is gone")
    assert received(c, "message") == []
    assert join(c, slug)["error"]["code"] == "not_found"


def test_an_invited_member_is_told_live(
    app, alice, bob, make_private_room, client_for, chat_socket, token_for
):
    slug = make_private_room(alice, [])
    b = chat_socket(client_for(bob))
    response = app.test_client().post(
        f"/api/v1/chat/rooms/{slug}/members", json={"username": "bob"}, headers=token_for(alice)
    )
    assert response.status_code == 201
    assert received(b, "room_added") == [{"room": slug}]
    assert join(b, slug)["ok"] is True


# --- sessions ending ---------------------------------------------------------------------------


def test_logging_out_ends_the_users_sockets(app, room, alice, client_for, chat_socket):
    alice_client = client_for(alice)
    a = chat_socket(alice_client)
    join(a, room)
    a.get_received(NS)
    assert alice_client.post("/logout").status_code == 302
    # The server closes the socket at once (through the message queue in every process).
    assert not a.is_connected(NS)
    assert messages_in(app, room) == []
    # The old cookie cannot open a new socket either.
    assert not socketio.test_client(app, namespace=NS, flask_test_client=alice_client).is_connected(
        NS
    )


def test_the_sweep_closes_sockets_whose_session_ended(
    app, room, alice, bob, client_for, chat_socket, token_for
):
    from forum.accounts import service as accounts
    from forum.accounts.models import User

    a = chat_socket(client_for(alice))
    token = token_for(bob)["Authorization"].removeprefix("Bearer ")
    b = chat_socket(auth={"token": token})
    join(a, room)
    join(b, room)
    with app.app_context(), app.test_request_context("/"):
        accounts.end_all_sessions(
            db.session.get(User, alice.id)
        )  # e.g. "log out everywhere" elsewhere
        db.session.commit()
    # Closed at once by the logout itself; the sweep has nothing left to do.
    assert not a.is_connected(NS)
    assert sweep_connections.delay().get() == 0
    assert b.is_connected(NS)
    assert count_rows(app, ChatConnection, ChatConnection.user_id == alice.id) == 0
    assert count_rows(app, ChatConnection, ChatConnection.user_id == bob.id) == 1


def test_the_sweep_forgets_silent_sockets(app, room, alice, client_for, chat_socket, time_machine):
    from forum.clock import now

    time_machine.move_to(now(), tick=False)
    a = chat_socket(client_for(alice))
    join(a, room)
    time_machine.shift(60)
    assert a.emit("heartbeat", {}, namespace=NS, callback=True) == {"ok": True, "rejoin": False}
    time_machine.shift(60)
    assert sweep_connections.delay().get() == 0  # heard from 60 s ago: kept
    time_machine.shift(app.config["CHAT_PRESENCE_TTL_SECONDS"])
    assert sweep_connections.delay().get() == 1
    assert not a.is_connected(NS)
    assert count_rows(app, ChatPresence) == 0


def test_a_suspended_member_is_refused(app, room, alice, make_user, client_for, chat_socket):
    from forum.accounts.models import User
    from forum.moderation import service as moderation

    mod = make_user("mia", role="moderator")
    a = chat_socket(client_for(alice))
    join(a, room)
    with app.app_context(), app.test_request_context("/"):
        moderation.suspend(
            db.session.get(User, mod.id), db.session.get(User, alice.id), 3 * 24 * 60, "spam"
        )
        db.session.commit()
    assert not a.is_connected(NS)
    assert messages_in(app, room) == []


def test_a_new_public_room_is_announced_to_everyone_in_chat(
    app, alice, make_user, client_for, chat_socket, token_for
):
    mod = make_user("mia", role="moderator")
    a = chat_socket(client_for(alice))
    response = app.test_client().post(
        "/api/v1/chat/rooms", json={"slug": "lobby", "name": "Lobby"}, headers=token_for(mod)
    )
    assert response.status_code == 201
    assert received(a, "room_created") == [{"room": "lobby", "name": "Lobby", "kind": "public"}]
