"""Chat request bodies and the JSON shapes of rooms and messages (API and sockets alike)."""

from typing import Literal

from pydantic import Field

from ..accounts.schemas import dump_user_ref
from ..embeds import EmbedContext, describe
from ..markup import EmbedRef
from ..schemas import Body, iso


class RoomBody(Body):
    slug: str = Field(max_length=64)
    name: str = Field(max_length=80)
    topic: str = Field(default="", max_length=200)


class PrivateRoomBody(Body):
    name: str = Field(max_length=80)
    topic: str = Field(default="", max_length=200)
    members: list[str] = Field(default_factory=list, max_length=50)


class DirectBody(Body):
    username: str = Field(max_length=64)


class InviteBody(Body):
    username: str = Field(max_length=64)


class MessageBody(Body):
    body: str
    # A client-chosen key: sending the same nonce again returns the first message.
    nonce: str | None = Field(default=None, max_length=64)


class MuteBody(Body):
    username: str = Field(max_length=64)
    minutes: int = Field(ge=1, le=10_080)
    reason: str = Field(default="", max_length=200)


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
        "id": room.id,
        "slug": room.slug,
        "name": room.name,
        "kind": room.kind,
        "topic": room.topic,
        "last_message_id": room.last_message_id,
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
