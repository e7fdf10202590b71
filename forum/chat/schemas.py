"""Chat request bodies and the JSON shapes of rooms and messages (API and sockets alike)."""

from typing import Annotated, Any, Literal

from pydantic import Field

from ..accounts.schemas import dump_user_ref
from ..embeds import EmbedContext, describe
from ..markup import EmbedRef
from ..schemas import MAX_DB_INT, Body, attrs, iso

# One limit each, used by the API bodies, the socket events and the service's checks.
ROOM_SLUG_MAX = 64  # any room's slug, generated private and direct ones included
NEW_SLUG_MIN, NEW_SLUG_MAX = 2, 48  # the slug a moderator chooses for a public room
NAME_MIN, NAME_MAX = 2, 80
TOPIC_MAX = 200
USERNAME_MAX = 64
NONCE_MAX = 64
PRIVATE_MEMBERS_MAX = 50
MUTE_MAX_MINUTES = 7 * 24 * 60
REASON_MAX = 200

MessageId = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
"""A message id in an event (0: "before the first message")."""


class RoomBody(Body):
    slug: str = Field(max_length=NEW_SLUG_MAX)
    name: str = Field(max_length=NAME_MAX)
    topic: str = Field(default="", max_length=TOPIC_MAX)


class PrivateRoomBody(Body):
    name: str = Field(max_length=NAME_MAX)
    topic: str = Field(default="", max_length=TOPIC_MAX)
    members: list[str] = Field(default_factory=list, max_length=PRIVATE_MEMBERS_MAX)


class DirectBody(Body):
    username: str = Field(max_length=USERNAME_MAX)


class InviteBody(Body):
    username: str = Field(max_length=USERNAME_MAX)


class MessageBody(Body):
    body: str
    # A client-chosen key: sending the same nonce again returns the first message.
    nonce: str | None = Field(default=None, max_length=NONCE_MAX)


class MuteBody(Body):
    username: str = Field(max_length=USERNAME_MAX)
    minutes: int = Field(ge=1, le=MUTE_MAX_MINUTES)
    reason: str = Field(default="", max_length=REASON_MAX)


# --- socket events (forum.chat.sockets): the same fields and limits as the API --------


class RoomEvent(Body):
    """``{room}``: who, typing, leave."""

    room: str = Field(min_length=1, max_length=ROOM_SLUG_MAX)


class JoinEvent(RoomEvent):
    since: MessageId | None = None
    check_from: MessageId | None = None


class SyncEvent(RoomEvent):
    after: MessageId
    check_from: MessageId | None = None


class ReadEvent(RoomEvent):
    id: MessageId | None = None


class SendEvent(RoomEvent, MessageBody):
    # The socket protocol answers anything but text with the service's ``empty`` refusal
    # (forum/chat/README.md), so the body's check is left to ``service.check_body``.
    body: Any = None


class MuteEvent(RoomEvent, MuteBody):
    pass


class DeleteEvent(Body):
    id: MessageId
    reason: str = Field(default="", max_length=REASON_MAX)  # a moderator's delete needs one


RoomKind = Literal["public", "private", "direct"]


def dump_author(user) -> dict:
    """``{id, username}`` plus what a client needs to draw the avatar."""
    return {**dump_user_ref(user), "initials": user.initials, "hue": user.avatar_hue}


def message_context(message, room_slug: str) -> EmbedContext:
    return EmbedContext("message", message.id, message.author_id, room=room_slug)


def embed_refs(message) -> list[EmbedRef]:
    return [
        EmbedRef(kind, int(ident))
        for kind, _, ident in (key.partition(":") for key in message.embeds or [])
    ]


def dump_message(message, room_slug: str | None = None) -> dict:
    """The ``message`` event and the API's message: ``{id, room, author, body_html, embeds, created_at}``.

    ``embeds`` carries each widget's tracked link for this message (needs a request context).
    """
    slug = room_slug or message.room.slug
    return {
        "id": message.id,
        "seq": message.seq,
        "room": slug,
        "author": dump_author(message.author),
        "body": message.body,
        "body_html": message.body_html,
        "embeds": describe(embed_refs(message), message_context(message, slug)),
        "created_at": iso(message.created_at),
    }


def dump_room(room, *, viewer=None, unread: int | None = None, members: list | None = None) -> dict:
    """A room as its viewer sees it: a direct room is named after the other member."""
    data = {
        **attrs(room, "id", "slug", "name", "kind", "topic", "last_message_id"),
        "last_message_at": iso(room.last_message_at),
        "created_at": iso(room.created_at),
    }
    if unread is not None:
        data["unread"] = unread
    if members is not None:
        data["members"] = [dump_user_ref(user) for user in members]
        if room.is_direct and viewer is not None:
            others = [user for user in members if user.id != viewer.id]
            if others:
                data["name"] = others[0].username
    return data
