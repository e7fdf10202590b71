"""Chat endpoints (contract: shared/API.md, "Chat")."""

from flask import request

from ..accounts.schemas import dump_user_ref
from ..chat import service
from ..chat.schemas import (
    DirectBody,
    InviteBody,
    MessageBody,
    MuteBody,
    PrivateRoomBody,
    RoomBody,
    dump_message,
    dump_room,
)
from ..errors import field_error
from ..pagination import limit_from
from ..permissions import acting_user as _user
from ..schemas import ReasonBody
from . import bp, responses
from .core import PAGE, endpoints

endpoint = endpoints(bp, tag="chat")


def _room_json(room, user) -> dict:
    members = service.room_members(room) if not room.is_public else None
    unread = service.unread_counts(user).get(room.id, 0)
    return dump_room(room, viewer=user, unread=unread, members=members)


@endpoint("/chat/rooms", "GET", response=responses.RoomList)
def chat_list_rooms():
    """Chat rooms the caller may read

    Public rooms, then the caller's private rooms and direct conversations, with unread counts."""
    user = _user()
    entries = service.rooms_for(user)
    items = []
    for entry in entries:
        data = dump_room(entry.room, viewer=user, unread=entry.unread)
        data["name"] = entry.name
        data["joined"] = entry.joined
        items.append(data)
    return {"items": items, "next_cursor": None}


@endpoint(
    "/chat/rooms",
    "POST",
    auth="moderator",
    body=RoomBody,
    status=201,
    errors=(409,),
    response=responses.Room,
)
def chat_create_room(data: RoomBody):
    """Create a public chat room"""
    room = service.create_public_room(_user(), data.slug, data.name, data.topic)
    return _room_json(room, _user())


@endpoint("/chat/private-rooms", "POST", body=PrivateRoomBody, status=201, response=responses.Room)
def chat_create_private_room(data: PrivateRoomBody):
    """Create a private room and add members"""
    room = service.create_private_room(_user(), data.name, data.members, data.topic)
    return _room_json(room, _user())


@endpoint(
    "/chat/direct", "POST", body=DirectBody, status=201, errors=(404,), response=responses.Room
)
def chat_open_direct(data: DirectBody):
    """Open (or reopen) the direct conversation with a member"""
    other = service.find_user(data.username)
    room = service.open_direct(_user(), other)
    return _room_json(room, _user())


@endpoint("/chat/rooms/<slug>", "GET", response=responses.RoomDetail)
def chat_get_room(slug: str):
    """One chat room"""
    room = service.get_room(slug, viewer=_user())
    data = _room_json(room, _user())
    data["online"] = [dump_user_ref(u) for u in service.online_users(room)]
    return data


@endpoint(
    "/chat/rooms/<slug>/members",
    "POST",
    body=InviteBody,
    status=201,
    errors=(409,),
    response=responses.UserRef,
)
def chat_add_member(slug: str, data: InviteBody):
    """Add a member to a private room"""
    room = service.get_room(slug, viewer=_user())
    user = service.invite(_user(), room, data.username)
    return dump_user_ref(user)


@endpoint("/chat/rooms/<slug>/members/<username>", "DELETE")
def chat_remove_member(slug: str, username: str):
    """Remove a member from a private room (or leave it)"""
    room = service.get_room(slug, viewer=_user())
    service.remove_member(_user(), room, service.find_user(username))


def _before_param():
    raw = request.args.get("before")
    cursor = request.args.get("cursor")
    if raw not in (None, "") and cursor not in (None, ""):
        raise field_error("before", "Give either before or cursor, not both.")
    if raw in (None, ""):
        return service.parse_message_id(cursor, "cursor")
    return service.parse_message_id(raw, "before")


@endpoint(
    "/chat/rooms/<slug>/messages",
    "GET",
    query=("before", *PAGE),
    response=responses.ChatMessagePage,
)
def chat_list_messages(slug: str):
    """Messages of a room, newest first

    Newest first; ``next_cursor`` is the id to pass as ``before`` (or ``cursor``) for older ones."""
    room = service.get_room(slug, viewer=_user())
    page = service.history(
        room, before=_before_param(), limit=limit_from(request.args.get("limit"))
    )
    return page.dump(lambda message: dump_message(message, room.slug))


@endpoint(
    "/chat/rooms/<slug>/messages",
    "POST",
    body=MessageBody,
    status=201,
    errors=(409, 429),
    response=responses.ChatMessage,
)
def chat_send_message(slug: str, data: MessageBody):
    """Send a message (also pushed live)"""
    room = service.get_room(slug, viewer=_user())
    message = service.send_message(_user(), room, data.body, nonce=data.nonce)
    return dump_message(message, room.slug)


@endpoint("/chat/messages/<int:message_id>", "DELETE", body=ReasonBody)
def chat_delete_message(message_id: int, data: ReasonBody):
    """Delete a message (author, or a moderator with a reason)"""
    message = service.get_message(message_id, viewer=_user())
    service.delete_message(_user(), message, data.reason)


@endpoint(
    "/chat/rooms/<slug>/mutes",
    "POST",
    auth="moderator",
    body=MuteBody,
    status=201,
    response=responses.Mute,
)
def chat_mute_member(slug: str, data: MuteBody):
    """Mute a member in a room for some minutes"""
    room = service.get_room(slug, viewer=_user())
    target = service.find_user(data.username)
    until = service.mute(_user(), room, target, data.minutes, data.reason)
    return {
        "room": room.slug,
        "user": dump_user_ref(target),
        "until": until.isoformat(),
    }


@endpoint("/chat/rooms/<slug>/read", "POST", response=responses.ReadState)
def chat_mark_read(slug: str):
    """Mark a room read (up to the latest message)"""
    room = service.get_room(slug, viewer=_user())
    return {"room": room.slug, "unread": service.mark_read(_user(), room)}
