"""The /chat Socket.IO namespace (protocol: forum/chat/README.md).

Handlers only parse (with the chat API's pydantic models, ``forum.chat.schemas``),
call ``forum.chat.service`` and shape the acknowledgement;
``socket_event`` authenticates every event, commits, and turns refusals into
``{"error": {...}}`` acks. Channels: ``room:<slug>`` for a room's events and
``user:<id>`` for one member's sockets (rooms added or removed, read positions,
logout).
"""

from flask import request
from flask_socketio import emit, join_room, leave_room

from ..accounts.schemas import dump_user_ref
from ..database import committed
from ..errors import ValidationFailed
from ..extensions import socketio
from ..schemas import iso, validate
from ..sockets import admit_connection, connect_user, send_without_delay, socket_event, socket_user
from . import service
from .schemas import (
    DeleteEvent,
    JoinEvent,
    MuteEvent,
    ReadEvent,
    RoomEvent,
    SendEvent,
    SyncEvent,
    dump_author,
    dump_message,
    dump_room,
)

NAMESPACE = service.NAMESPACE


# --- parsing: the chat API's models (forum.chat.schemas), one set of limits ----------


def _parse(model, data):
    """The event's payload as ``model`` (ValidationFailed, a 422 ack, otherwise)."""
    if not isinstance(data, dict):
        raise ValidationFailed(
            "Send an object with the event's fields.", fields={"data": ["Expected an object."]}
        )
    return validate(model, data)


def _room(event: RoomEvent):
    return service.get_room(event.room, viewer=socket_user())


# --- connection ----------------------------------------------------------------------


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    """Members only: the session cookie, or ``auth={"token": ...}``."""
    with committed():
        admit_connection()
        user = connect_user(auth)
        if user is None:
            raise ConnectionRefusedError(
                {"code": "not_authenticated", "message": "Log in to chat."}
            )
        send_without_delay()
        join_room(f"user:{user.id}")
        join_room(service.PUBLIC_ROOMS_CHANNEL)
        service.register_connection(request.sid, user)
    return True


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(reason=None):
    with committed():
        service.drop_connection(request.sid)


# --- rooms ---------------------------------------------------------------------------


@socketio.on("join", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-join")
def on_join(data=None):
    """``{room, since?}`` -> room, who is online, and (with ``since``) what was missed.

    The socket enters the room's channel *before* the missed messages are read, so
    nothing committed in between is lost; it may arrive twice (live and in
    ``missed``), and clients keep the one copy per id.
    """
    event = _parse(JoinEvent, data)
    room = _room(event)
    user = socket_user()
    member = service.join(user, room)
    join_room(room.channel)
    service.enter(request.sid, user, room)
    ack = {
        "ok": True,
        "room": dump_room(
            room, viewer=user, members=service.room_members(room) if not room.is_public else None
        ),
        "online": [dump_author(u) for u in service.online_users(room)],
        "last_id": room.last_message_id or 0,
        "last_seq": room.message_seq,
        "muted_until": iso(member.muted_until) if member is not None and member.is_muted else None,
        "unread": service.unread_count(user, room),
    }
    if event.since is not None:
        ack.update(_sync(room, event.since, event.check_from))
    return ack


def _sync(room, after: int, check_from: int | None) -> dict:
    items, more = service.messages_after(room, after)
    return {
        "missed": [dump_message(m, room.slug) for m in items],
        "more": more,
        "deleted": service.deleted_between(room, check_from, after)
        if check_from is not None
        else [],
        "last_seq": room.message_seq,
    }


@socketio.on("sync", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-sync")
def on_sync(data=None):
    """``{room, after, check_from?}`` -> ``{missed (oldest first), more, deleted}``."""
    event = _parse(SyncEvent, data)
    return {"ok": True, **_sync(_room(event), event.after, event.check_from)}


@socketio.on("leave", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-leave")
def on_leave(data=None):
    """Stop receiving a room's events (membership is unchanged)."""
    room = service.find_room(_parse(RoomEvent, data).room)
    if room is not None:
        leave_room(room.channel)
        service.exit_room(request.sid, socket_user(), room)
    return {"ok": True}


@socketio.on("heartbeat", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-heartbeat")
def on_heartbeat(data=None):
    """Keep this socket's presence fresh; ``rejoin`` tells a client whose entry expired to join again."""
    alive = service.touch_connection(request.sid, socket_user())
    return {"ok": True, "rejoin": not alive}


@socketio.on("who", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-who")
def on_who(data=None):
    room = _room(_parse(RoomEvent, data))
    return {
        "ok": True,
        "room": room.slug,
        "online": [dump_author(u) for u in service.online_users(room)],
    }


# --- messages ------------------------------------------------------------------------


@socketio.on("send", namespace=NAMESPACE)
@socket_event()
def on_send(data=None):
    """``{room, body, nonce?}`` -> ``{id, seq, room, created_at, delivered}``.

    Everyone in the room gets ``message`` after the commit. ``delivered`` is false
    when that push could not be published (message queue down; ``socket_event``
    sets it): the message is stored and the others get it when they resync by seq.
    """
    event = _parse(SendEvent, data)
    room = _room(event)
    message = service.send_message(socket_user(), room, event.body, nonce=event.nonce)
    return {
        "id": message.id,
        "seq": message.seq,
        "room": room.slug,
        "created_at": iso(message.created_at),
        "delivered": True,
    }


@socketio.on("typing", namespace=NAMESPACE)
@socket_event(limit="CHAT_TYPING_LIMIT", scope="chat-typing")
def on_typing(data=None):
    """Tell the others in the room (not this socket) that this member is typing."""
    room = _room(_parse(RoomEvent, data))
    user = socket_user()
    service.check_can_write(user, room)
    emit(
        "typing",
        {"room": room.slug, "user": dump_user_ref(user)},
        to=room.channel,
        include_self=False,
    )
    return {"ok": True}


@socketio.on("read", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-read")
def on_read(data=None):
    """``{room, id}``: the member has seen up to ``id``; returns the room's unread count."""
    event = _parse(ReadEvent, data)
    return {"ok": True, "unread": service.mark_read(socket_user(), _room(event), event.id)}


@socketio.on("delete", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-delete")
def on_delete(data=None):
    """``{id, reason?}``: the author or a moderator (with a reason) removes a message."""
    event = _parse(DeleteEvent, data)
    message = service.get_message(event.id, viewer=socket_user())
    service.delete_message(socket_user(), message, event.reason)
    return {"ok": True, "id": message.id}


@socketio.on("mute", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-mute")
def on_mute(data=None):
    """``{room, username, minutes, reason?}`` (moderators)."""

    event = _parse(MuteEvent, data)
    room = _room(event)
    target = service.find_user(event.username)
    until = service.mute(socket_user(), room, target, event.minutes, event.reason)
    return {"ok": True, "until": iso(until)}
