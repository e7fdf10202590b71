"""The chat endpoints of the JSON API (shared/API.md, "Chat")."""

import pytest
from sqlalchemy import select

from forum.chat.models import ChatMember, ChatMessage, ChatRoom
from forum.extensions import db
from forum.moderation.models import AuditEntry
from tests.chat.conftest import NS, count_rows, received
from tests.conftest import app_context


@pytest.fixture
def api(app):
    return app.test_client()


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def mod(make_user):
    return make_user("mia", role="moderator")


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


def post_messages(api, headers, slug, bodies):
    ids = []
    for body in bodies:
        response = api.post(
            f"/api/v1/chat/rooms/{slug}/messages", json={"body": body}, headers=headers
        )
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


# --- rooms ---------------------------------------------------------------------------------


def test_rooms_lists_what_the_caller_may_read(
    api, alice, bob, make_user, make_room, make_private_room, make_direct, token_for
):
    carol = make_user("carol")
    make_room("general")
    make_room("deals")
    secret = make_private_room(alice, [bob], name="Alice and Bob")
    make_private_room(carol, [], name="Carol alone")
    direct = make_direct(alice, carol)

    response = api.get("/api/v1/chat/rooms", headers=token_for(alice))
    assert response.status_code == 200
    body = response.get_json()
    assert body["next_cursor"] is None
    rooms = {room["slug"]: room for room in body["items"]}
    assert set(rooms) == {"deals", "general", secret, direct}
    assert rooms[direct]["kind"] == "direct" and rooms[direct]["name"] == "carol"
    assert rooms[secret]["kind"] == "private" and rooms["general"]["kind"] == "public"
    assert {"id", "slug", "name", "kind", "unread"} <= rooms["general"].keys()

    bob_rooms = {
        r["slug"] for r in api.get("/api/v1/chat/rooms", headers=token_for(bob)).get_json()["items"]
    }
    assert bob_rooms == {"deals", "general", secret}


def test_rooms_need_a_login(api):
    response = api.get("/api/v1/chat/rooms")
    assert response.status_code == 401 and error_code(response) == "not_authenticated"


def test_moderators_create_public_rooms(api, mod, alice, token_for):
    response = api.post(
        "/api/v1/chat/rooms",
        json={"slug": "board-games", "name": "Board games"},
        headers=token_for(mod),
    )
    assert response.status_code == 201
    room = response.get_json()
    assert (
        room["slug"] == "board-games" and room["name"] == "Board games" and room["kind"] == "public"
    )
    assert api.get("/api/v1/chat/rooms/board-games", headers=token_for(alice)).status_code == 200


def test_members_cannot_create_public_rooms(app, api, alice, token_for):
    response = api.post(
        "/api/v1/chat/rooms", json={"slug": "mine", "name": "Mine"}, headers=token_for(alice)
    )
    assert response.status_code == 403 and error_code(response) == "forbidden"
    assert api.post("/api/v1/chat/rooms", json={"slug": "mine", "name": "Mine"}).status_code == 401
    assert count_rows(app, ChatRoom) == 0


@pytest.mark.parametrize(
    "body, fields",
    [
        ({"slug": "Not A Slug", "name": "Fine"}, {"slug"}),
        ({"slug": "x", "name": "Fine"}, {"slug"}),
        ({"slug": "dm-1-2", "name": "Sneaky"}, {"slug"}),
        ({"slug": "new", "name": "Reserved"}, {"slug"}),
        ({"slug": "ok-slug", "name": "a"}, {"name"}),
        ({"slug": "--", "name": " "}, {"slug", "name"}),
        ({"slug": "ok-slug"}, {"name"}),
        ({"slug": 5, "name": "Number"}, {"slug"}),
        ({"slug": "ok-slug", "name": "Fine", "extra": 1}, {"extra"}),
        ({"slug": "ok-slug", "name": "Fine", "topic": "t" * 201}, {"topic"}),
    ],
)
def test_bad_room_bodies_are_422_with_fields_and_write_nothing(
    app, api, mod, token_for, body, fields
):
    response = api.post("/api/v1/chat/rooms", json=body, headers=token_for(mod))
    assert response.status_code == 422
    assert fields <= set(response.get_json()["error"]["fields"])
    assert count_rows(app, ChatRoom) == 0


def test_a_taken_slug_is_a_conflict(app, api, mod, make_room, token_for):
    make_room("general")
    response = api.post(
        "/api/v1/chat/rooms", json={"slug": "general", "name": "Again"}, headers=token_for(mod)
    )
    assert response.status_code == 409 and error_code(response) == "slug_taken"
    assert count_rows(app, ChatRoom) == 1


def test_private_rooms_and_direct_conversations(app, api, alice, bob, make_user, token_for):
    carol = make_user("carol")
    response = api.post(
        "/api/v1/chat/private-rooms",
        json={"name": "Book club", "members": ["bob"]},
        headers=token_for(alice),
    )
    assert response.status_code == 201
    room = response.get_json()
    assert room["kind"] == "private" and {m["username"] for m in room["members"]} == {
        "alice",
        "bob",
    }
    assert (
        api.get(f"/api/v1/chat/rooms/{room['slug']}", headers=token_for(carol)).status_code == 404
    )

    bad = api.post(
        "/api/v1/chat/private-rooms",
        json={"name": "Typo", "members": ["bobb"]},
        headers=token_for(alice),
    )
    assert bad.status_code == 422 and "members" in bad.get_json()["error"]["fields"]
    assert count_rows(app, ChatRoom) == 1

    first = api.post("/api/v1/chat/direct", json={"username": "bob"}, headers=token_for(alice))
    again = api.post("/api/v1/chat/direct", json={"username": "alice"}, headers=token_for(bob))
    assert first.status_code == again.status_code == 201
    assert first.get_json()["slug"] == again.get_json()["slug"]
    assert first.get_json()["name"] == "bob" and again.get_json()["name"] == "alice"
    assert (
        api.post(
            "/api/v1/chat/direct", json={"username": "alice"}, headers=token_for(alice)
        ).status_code
        == 422
    )
    assert (
        api.post(
            "/api/v1/chat/direct", json={"username": "ghost"}, headers=token_for(alice)
        ).status_code
        == 404
    )
    assert count_rows(app, ChatRoom, ChatRoom.kind == "direct") == 1


def test_only_the_owner_adds_members(app, api, alice, bob, make_user, make_private_room, token_for):
    carol = make_user("carol")
    slug = make_private_room(alice, [bob])
    response = api.post(
        f"/api/v1/chat/rooms/{slug}/members", json={"username": "carol"}, headers=token_for(bob)
    )
    assert response.status_code == 403
    response = api.post(
        f"/api/v1/chat/rooms/{slug}/members", json={"username": "carol"}, headers=token_for(carol)
    )
    assert response.status_code == 404
    response = api.post(
        f"/api/v1/chat/rooms/{slug}/members", json={"username": "bob"}, headers=token_for(alice)
    )
    assert response.status_code == 409 and error_code(response) == "already_member"
    response = api.post(
        f"/api/v1/chat/rooms/{slug}/members", json={"username": "carol"}, headers=token_for(alice)
    )
    assert response.status_code == 201
    with app_context(app):
        room = db.session.scalar(select(ChatRoom).where(ChatRoom.slug == slug))
        assert count_rows(app, ChatMember, ChatMember.room_id == room.id) == 3


# --- messages ------------------------------------------------------------------------------


def test_history_is_newest_first_and_pages_backwards(api, alice, make_room, token_for):
    slug = make_room("general")
    ids = post_messages(api, token_for(alice), slug, [f"message {n}" for n in range(7)])
    headers = token_for(alice)
    first = api.get(f"/api/v1/chat/rooms/{slug}/messages?limit=3", headers=headers).get_json()
    assert [m["id"] for m in first["items"]] == ids[::-1][:3]
    assert first["next_cursor"] == str(ids[4])
    second = api.get(
        f"/api/v1/chat/rooms/{slug}/messages?limit=3&before={first['next_cursor']}", headers=headers
    )
    assert [m["id"] for m in second.get_json()["items"]] == ids[::-1][3:6]
    third = api.get(
        f"/api/v1/chat/rooms/{slug}/messages?limit=3&cursor={second.get_json()['next_cursor']}",
        headers=headers,
    ).get_json()
    assert [m["id"] for m in third["items"]] == ids[:1] and third["next_cursor"] is None
    message = first["items"][0]
    assert message["room"] == slug and message["author"]["username"] == "alice"
    assert message["body_html"] == "<p>message 6</p>" and message["embeds"] == []
    assert message["created_at"].endswith("+00:00")


@pytest.mark.parametrize(
    "query", ["before=abc", "before=-1", "before=1.5", "limit=0", "limit=500", "cursor=%%"]
)
def test_bad_history_queries_are_422(api, alice, make_room, token_for, query):
    slug = make_room("general")
    response = api.get(f"/api/v1/chat/rooms/{slug}/messages?{query}", headers=token_for(alice))
    assert response.status_code == 422


def test_sending_returns_201_and_pushes_live(
    app, api, alice, bob, make_room, token_for, client_for, chat_socket
):
    slug = make_room("general")
    listener = chat_socket(client_for(bob))
    listener.emit("join", {"room": slug}, namespace=NS, callback=True)
    listener.get_received(NS)
    response = api.post(
        f"/api/v1/chat/rooms/{slug}/messages",
        json={"body": "hi [[product:3]]"},
        headers=token_for(alice),
    )
    assert response.status_code == 201
    message = response.get_json()
    assert {"id", "room", "author", "body_html", "embeds", "created_at"} <= message.keys()
    assert message["embeds"][0]["kind"] == "product" and message["embeds"][0]["id"] == 3
    (pushed,) = received(listener, "message")
    assert pushed["id"] == message["id"] and pushed["body_html"] == message["body_html"]


def test_a_cookie_session_needs_the_csrf_token(app, alice, make_room, client_for):
    slug = make_room("general")
    client = client_for(alice)
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post(f"/api/v1/chat/rooms/{slug}/messages", json={"body": "no token"})
    assert refused.status_code == 403 and error_code(refused) == "csrf_failed"
    page = client.get(f"/chat/{slug}").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    accepted = client.post(
        f"/api/v1/chat/rooms/{slug}/messages",
        json={"body": "token"},
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 201
    assert count_rows(app, ChatMessage) == 1


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"body": ""}, 422, "empty"),
        ({"body": "   \n "}, 422, "empty"),
        ({"body": "x" * 2001}, 422, "too_long"),
        ({"body": 7}, 422, "invalid"),
        ({}, 422, "invalid"),
        ({"body": "ok", "nonce": "n" * 65}, 422, "invalid"),
    ],
)
def test_bad_messages_are_refused_and_nothing_is_stored(
    app, api, alice, make_room, token_for, body, status, code
):
    slug = make_room("general")
    response = api.post(f"/api/v1/chat/rooms/{slug}/messages", json=body, headers=token_for(alice))
    assert response.status_code == status and error_code(response) == code
    assert count_rows(app, ChatMessage) == 0
    with app_context(app):
        assert db.session.scalar(select(ChatRoom.message_seq).where(ChatRoom.slug == slug)) == 0


def test_private_history_and_posting_are_404_for_outsiders(
    app, api, alice, bob, make_user, make_private_room, token_for
):
    carol = make_user("carol")
    slug = make_private_room(alice, [bob])
    post_messages(api, token_for(bob), slug, ["members only"])
    assert (
        api.get(f"/api/v1/chat/rooms/{slug}/messages", headers=token_for(carol)).status_code == 404
    )
    response = api.post(
        f"/api/v1/chat/rooms/{slug}/messages", json={"body": "hi"}, headers=token_for(carol)
    )
    assert response.status_code == 404 and error_code(response) == "not_found"
    assert count_rows(app, ChatMessage) == 1
    assert (
        api.get("/api/v1/chat/rooms/nowhere/messages", headers=token_for(alice)).status_code == 404
    )


def test_deleting_messages(app, api, alice, bob, mod, make_room, token_for):
    slug = make_room("general")
    mine, other = post_messages(api, token_for(alice), slug, ["mine", "another"])
    assert api.delete(f"/api/v1/chat/messages/{mine}", headers=token_for(bob)).status_code == 403
    assert api.delete(f"/api/v1/chat/messages/{mine}", headers=token_for(alice)).status_code == 204
    assert api.delete(f"/api/v1/chat/messages/{mine}", headers=token_for(alice)).status_code == 404
    no_reason = api.delete(f"/api/v1/chat/messages/{other}", headers=token_for(mod))
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    assert (
        api.delete(
            f"/api/v1/chat/messages/{other}", json={"reason": "spam"}, headers=token_for(mod)
        ).status_code
        == 204
    )
    assert api.delete("/api/v1/chat/messages/999", headers=token_for(mod)).status_code == 404
    assert (
        api.get(f"/api/v1/chat/rooms/{slug}/messages", headers=token_for(bob)).get_json()["items"]
        == []
    )
    assert count_rows(app, AuditEntry, AuditEntry.action == "chat.message.delete") == 1


def test_muting_through_the_api(app, api, alice, bob, mod, make_room, token_for):
    slug = make_room("general")
    response = api.post(
        f"/api/v1/chat/rooms/{slug}/mutes",
        json={"username": "bob", "minutes": 30},
        headers=token_for(alice),
    )
    assert response.status_code == 403
    for body in (
        {"username": "bob", "minutes": 0},
        {"username": "bob", "minutes": "5"},
        {"username": "bob"},
        {"username": "bob", "minutes": 5},
        {"username": "bob", "minutes": 5, "reason": "  "},
    ):
        assert (
            api.post(
                f"/api/v1/chat/rooms/{slug}/mutes", json=body, headers=token_for(mod)
            ).status_code
            == 422
        )
    assert count_rows(app, AuditEntry) == 0
    response = api.post(
        f"/api/v1/chat/rooms/{slug}/mutes",
        json={"username": "bob", "minutes": 30, "reason": "flooding"},
        headers=token_for(mod),
    )
    assert response.status_code == 201 and response.get_json()["user"]["username"] == "bob"
    refused = api.post(
        f"/api/v1/chat/rooms/{slug}/messages", json={"body": "hi"}, headers=token_for(bob)
    )
    assert refused.status_code == 403 and error_code(refused) == "muted"
    assert count_rows(app, ChatMessage) == 0


def test_the_openapi_document_lists_the_chat_endpoints(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/chat/rooms"])
    assert {"get", "post"} <= set(paths["/api/v1/chat/rooms/{slug}/messages"])
