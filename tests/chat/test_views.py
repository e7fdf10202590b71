"""Chat pages: they work without JavaScript and refuse what the API refuses."""

import re

import pytest
from markupsafe import Markup
from sqlalchemy import select

from forum import embeds
from forum.chat.models import ChatMember, ChatMessage, ChatRoom
from forum.extensions import db
from forum.moderation.models import AuditEntry
from tests.chat.conftest import count_rows
from tests.conftest import app_context


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


def send_via_api(app, headers, slug, body) -> int:
    response = app.test_client().post(
        f"/api/v1/chat/rooms/{slug}/messages", json={"body": body}, headers=headers
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_chat_needs_a_login(client, make_room):
    make_room("general")
    for path in ("/chat/", "/chat/general", "/chat/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_index_opens_a_room_or_welcomes(app, alice, client_for, make_room):
    client = client_for(alice)
    page = client.get("/chat/")
    assert page.status_code == 200 and "Welcome to chat" in page.get_data(as_text=True)
    make_room("general")
    assert client.get("/chat/").headers["Location"].endswith("/chat/general")


def test_a_room_page_shows_the_conversation(app, alice, bob, client_for, make_room, token_for):
    slug = make_room("general", topic="Say hi")
    send_via_api(app, token_for(alice), slug, "hello **there** @bob")
    send_via_api(app, token_for(alice), slug, "second")
    response = client_for(bob).get(f"/chat/{slug}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<strong>there</strong>" in html and "Say hi" in html
    assert 'data-chat data-room="general"' in html
    assert "data-unread-divider" in html  # bob had not read them
    assert 'class="msg is-mention"' in html  # the one that mentions bob
    assert "<script>" not in html and " style=" not in html and "onclick" not in html
    # Opening the room read it (the page's socket, or its no-JavaScript form, posts it).
    assert client_for(bob).post(f"/chat/{slug}/read").status_code == 302
    again = client_for(bob).get(f"/chat/{slug}").get_data(as_text=True)
    assert "data-unread-divider" not in again


def test_consecutive_messages_of_one_author_are_grouped(
    app, alice, client_for, make_room, token_for
):
    slug = make_room("general")
    for body in ("one", "two"):
        send_via_api(app, token_for(alice), slug, body)
    html = client_for(alice).get(f"/chat/{slug}").get_data(as_text=True)
    assert html.count("msg is-followup") == 1


def test_private_rooms_are_404_for_outsiders(
    app, alice, bob, make_user, client_for, make_private_room
):
    carol = make_user("carol")
    slug = make_private_room(alice, [bob])
    assert client_for(carol).get(f"/chat/{slug}").status_code == 404
    assert client_for(carol).post(f"/chat/{slug}", data={"body": "hi"}).status_code == 404
    assert client_for(carol).get(f"/chat/{slug}/earlier?before=5").status_code == 404
    assert client_for(bob).get(f"/chat/{slug}").status_code == 200
    assert count_rows(app, ChatMessage) == 0


def test_the_composer_works_without_javascript(app, alice, client_for, make_room):
    slug = make_room("general")
    client = client_for(alice)
    response = client.post(f"/chat/{slug}", data={"body": "plain form post"})
    assert response.status_code == 302 and "#m-" in response.headers["Location"]
    too_long = client.post(f"/chat/{slug}", data={"body": "x" * 2001})
    assert too_long.status_code == 422
    assert "at most 2,000 characters" in too_long.get_data(as_text=True)
    empty = client.post(f"/chat/{slug}", data={"body": ""})
    assert empty.status_code == 422
    with app_context(app):
        assert list(db.session.scalars(select(ChatMessage.body))) == ["plain form post"]


def test_load_earlier_returns_older_messages_and_the_next_cursor(
    app, alice, client_for, make_room, token_for
):
    app.config["CHAT_HISTORY_PAGE"] = 3
    slug = make_room("general")
    ids = [send_via_api(app, token_for(alice), slug, f"message {n}") for n in range(7)]
    client = client_for(alice)
    page = client.get(f"/chat/{slug}").get_data(as_text=True)
    assert f'data-cursor="{ids[4]}"' in page and "message 3" not in page
    older = client.get(f"/chat/{slug}/earlier?before={ids[4]}")
    assert older.headers["X-Next-Cursor"] == str(ids[1])
    assert re.findall(r"message \d", older.get_data(as_text=True)) == [
        "message 1",
        "message 2",
        "message 3",
    ]
    oldest = client.get(f"/chat/{slug}/earlier?before={ids[1]}")
    assert oldest.headers["X-Next-Cursor"] == ""
    assert client.get(f"/chat/{slug}/earlier?before=nope").status_code == 422


def test_widgets_in_messages_are_rendered_for_the_viewer(
    app, alice, client_for, make_room, token_for, monkeypatch
):
    shown = []

    def render(obj, context, href):
        shown.append(context)
        return Markup('<div class="widget test-widget"><a href="{}">{}</a></div>').format(href, obj)

    widget = embeds.WidgetKind(
        "product", lambda ids: {i: f"Product {i}" for i in ids}, render, lambda obj: "/p/x"
    )
    real = embeds.widget
    monkeypatch.setattr(embeds, "widget", lambda kind: widget if kind == "product" else real(kind))
    slug = make_room("deals")
    mid = send_via_api(app, token_for(alice), slug, "look: [[product:9]]")
    fragment = client_for(alice).get(f"/chat/{slug}/m/{mid}")
    assert fragment.status_code == 200
    assert 'class="widget test-widget"' in fragment.get_data(
        as_text=True
    ) and "Product 9" in fragment.get_data(as_text=True)
    assert shown[-1] == embeds.EmbedContext("message", mid, alice.id, room=slug)
    page = client_for(alice).get(f"/chat/{slug}").get_data(as_text=True)
    assert "test-widget" in page and "<plaza-embed" not in page
    assert client_for(alice).get(f"/chat/other/m/{mid}").status_code == 404


def test_creating_rooms_from_the_page(app, alice, bob, make_user, client_for):
    mod = make_user("mia", role="moderator")
    client = client_for(alice)
    assert client.get("/chat/new").status_code == 200
    response = client.post("/chat/new", data={"name": "Book club", "members": "bob, ghost"})
    assert response.status_code == 422 and "No member called ghost" in response.get_data(
        as_text=True
    )
    assert count_rows(app, ChatRoom) == 0
    response = client.post("/chat/new", data={"name": "Book club", "members": "bob"})
    assert response.status_code == 302
    with app_context(app):
        room = db.session.scalar(select(ChatRoom))
        assert (
            room.kind == "private"
            and count_rows(app, ChatMember, ChatMember.room_id == room.id) == 2
        )
    # A member ticking "public" is refused; a moderator makes a public room.
    refused = client.post("/chat/new", data={"name": "Lobby", "public": "y", "slug": "lobby"})
    assert refused.status_code == 422 and "Only moderators" in refused.get_data(as_text=True)
    made = client_for(mod).post("/chat/new", data={"name": "Lobby", "public": "y", "slug": "lobby"})
    assert made.status_code == 302 and made.headers["Location"].endswith("/chat/lobby")
    taken = client_for(mod).post(
        "/chat/new", data={"name": "Lobby", "public": "y", "slug": "lobby"}
    )
    assert taken.status_code == 422 and "taken" in taken.get_data(as_text=True)


def test_starting_a_direct_conversation(app, alice, bob, client_for):
    client = client_for(alice)
    response = client.post("/chat/dm", data={"dm-username": "bob"})
    assert response.status_code == 302
    slug = response.headers["Location"].rsplit("/", 1)[1]
    assert client.post("/chat/dm/bob").headers["Location"].endswith(f"/chat/{slug}")
    page = client.get(f"/chat/{slug}").get_data(as_text=True)
    assert "your conversation with bob" in page
    assert client.post("/chat/dm", data={"dm-username": "nobody-here"}).status_code == 302
    assert client.post("/chat/dm/alice").status_code == 422  # not with yourself
    assert count_rows(app, ChatRoom) == 1


def test_owners_manage_members_from_the_page(
    app, alice, bob, make_user, client_for, make_private_room
):
    carol = make_user("carol")
    slug = make_private_room(alice, [bob])
    owner = client_for(alice)
    assert (
        client_for(bob).post(f"/chat/{slug}/invite", data={"invite-username": "carol"}).status_code
        == 403
    )
    assert owner.post(f"/chat/{slug}/invite", data={"invite-username": "carol"}).status_code == 302
    assert client_for(carol).get(f"/chat/{slug}").status_code == 200
    assert owner.post(f"/chat/{slug}/invite", data={"invite-username": "carol"}).status_code == 422
    assert owner.post(f"/chat/{slug}/remove", data={"username": "carol"}).status_code == 302
    assert client_for(carol).get(f"/chat/{slug}").status_code == 404
    # Bob leaves; alice, the owner, stays.
    assert client_for(bob).post(f"/chat/{slug}/remove", data={"username": "bob"}).status_code == 302
    assert client_for(bob).get(f"/chat/{slug}").status_code == 404


def test_member_forms_show_refusals_on_the_form_and_leave_the_rest_to_error_pages(
    app, alice, bob, make_user, client_for, make_private_room, make_room
):
    slug = make_private_room(alice, [bob])
    owner = client_for(alice)
    again = owner.post(f"/chat/{slug}/invite", data={"invite-username": "bob"})
    assert again.status_code == 422 and "bob is already in this room." in again.get_data(
        as_text=True
    )
    assert (
        client_for(make_user("dora"))
        .post(f"/chat/{slug}/invite", data={"invite-username": "bob"})
        .status_code
        == 404
    )  # a room one may not read does not exist
    general = make_room("general")
    mia = client_for(make_user("mia", role="moderator"))
    ghost = mia.post(
        f"/chat/{general}/mute",
        data={"mute-username": "ghost", "mute-minutes": "5", "mute-reason": "spam"},
    )
    assert ghost.status_code == 404
    assert (
        client_for(bob)
        .post(
            f"/chat/{general}/mute",
            data={"mute-username": "alice", "mute-minutes": "5", "mute-reason": "x"},
        )
        .status_code
        == 403
    )


def test_moderators_mute_and_delete_from_the_page(
    app, alice, bob, make_user, client_for, make_room, token_for
):
    mod = make_user("mia", role="moderator")
    slug = make_room("general")
    mid = send_via_api(app, token_for(bob), slug, "spam spam")
    moderator = client_for(mod)
    page = moderator.get(f"/chat/{slug}").get_data(as_text=True)
    assert "Mute in this room" in page and 'data-mute-author="bob"' in page
    assert "Mute in this room" not in client_for(alice).get(f"/chat/{slug}").get_data(as_text=True)

    assert client_for(alice).post(f"/chat/{slug}/m/{mid}/delete").status_code == 403
    assert moderator.post(f"/chat/{slug}/m/{mid}/delete").status_code == 422  # no reason
    deleted = moderator.post(f"/chat/{slug}/m/{mid}/delete", data={"reason": "off topic"})
    assert deleted.status_code == 302
    bad = moderator.post(f"/chat/{slug}/mute", data={"mute-username": "bob", "mute-minutes": "0"})
    assert bad.status_code == 422
    assert (
        moderator.post(
            f"/chat/{slug}/mute", data={"mute-username": "bob", "mute-minutes": "15"}
        ).status_code
        == 422  # no reason
    )
    assert (
        moderator.post(
            f"/chat/{slug}/mute",
            data={"mute-username": "bob", "mute-minutes": "15", "mute-reason": "flooding"},
        ).status_code
        == 302
    )
    refused = client_for(bob).post(f"/chat/{slug}", data={"body": "hello?"})
    assert refused.status_code == 403 and "muted you" in refused.get_data(as_text=True)
    muted_page = client_for(bob).get(f"/chat/{slug}").get_data(as_text=True)
    assert "muted you in this room" in muted_page
    assert moderator.post(f"/chat/{slug}/unmute", data={"username": "bob"}).status_code == 422
    unmuted = moderator.post(f"/chat/{slug}/unmute", data={"username": "bob", "reason": "calm"})
    assert unmuted.status_code == 302
    assert client_for(bob).post(f"/chat/{slug}", data={"body": "thanks"}).status_code == 302
    with app_context(app):
        actions = list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["chat.message.delete", "chat.mute", "chat.unmute"]
    with app_context(app):
        reasons = list(db.session.scalars(select(AuditEntry.reason).order_by(AuditEntry.id)))
    assert reasons == ["off topic", "flooding", "calm"]


@pytest.mark.parametrize(
    "path",
    ["/chat/%00", "/chat/general/m/99", "/chat/general/earlier?before=-1", "/chat/" + "x" * 300],
)
def test_odd_urls_never_give_a_server_error(alice, client_for, make_room, path):
    make_room("general")
    assert client_for(alice).get(path).status_code < 500


class TestWithCsrf:
    @pytest.fixture
    def config_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_chat_forms_need_the_csrf_token(self, app, make_user, make_room):
        from tests.conftest import PASSWORD

        make_user("alice")
        slug = make_room("general")
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
        assert client.post(f"/chat/{slug}", data={"body": "forged"}).status_code == 400
        page = client.get(f"/chat/{slug}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert (
            client.post(f"/chat/{slug}", data={"body": "real", "csrf_token": token}).status_code
            == 302
        )
        assert count_rows(app, ChatMessage) == 1


@pytest.mark.parametrize(
    "path, data",
    [
        ("/chat/general", {"body": "nul \x00 byte \x01 and bell \x07"}),
        ("/chat/new", {"name": "na\x00me", "members": "bo\x00b"}),
        ("/chat/dm", {"dm-username": "bo\x00b"}),
        ("/chat/dm/%00", {}),
        ("/chat/general/mute", {"mute-username": "\x00", "mute-minutes": "5"}),
        ("/chat/general/invite", {"invite-username": "x\x00"}),
    ],
)
def test_odd_posts_never_give_a_server_error(app, alice, client_for, make_room, path, data):
    make_room("general")
    assert client_for(alice).post(path, data=data).status_code < 500
    with app_context(app):
        assert all("\x00" not in body for body in db.session.scalars(select(ChatMessage.body)))


def test_opening_a_room_page_writes_nothing(app, alice, bob, client_for, make_room, token_for):
    """A GET never writes: the page joins and marks read over its socket (or a POST)."""
    slug = make_room("general")
    send_via_api(app, token_for(alice), slug, "hello")
    with app_context(app):
        room_id = db.session.scalar(select(ChatRoom.id).where(ChatRoom.slug == slug))
    members_before = count_rows(app, ChatMember)
    page = client_for(bob).get(f"/chat/{slug}")
    assert page.status_code == 200 and "data-unread-divider" in page.get_data(as_text=True)
    assert count_rows(app, ChatMember) == members_before  # bob did not join by looking
    read = client_for(bob).post(f"/chat/{slug}/read")
    assert read.status_code == 302 and read.headers["Location"].endswith(f"/chat/{slug}")
    with app_context(app):
        member = db.session.get(ChatMember, (room_id, bob.id))
        assert member is not None and member.last_read_id > 0


def test_marking_read_refuses_a_private_room_outsider(
    app, alice, bob, make_user, client_for, make_private_room
):
    slug = make_private_room(alice, [bob])
    carol = make_user("carol")
    assert client_for(carol).post(f"/chat/{slug}/read").status_code == 404
