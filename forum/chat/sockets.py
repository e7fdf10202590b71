"""The /chat Socket.IO namespace (protocol: forum/chat/README.md).

Handlers only parse, call ``forum.chat.service`` and shape the acknowledgement;
``socket_event`` authenticates every event, commits, and turns refusals into
``{"error": {...}}`` acks. Channels: ``room:<slug>`` for a room's events and
``user:<id>`` for one member's sockets (rooms added or removed, read positions,
logout).
"""

from flask import request
from flask_socketio import emit, join_room, leave_room

from ..accounts.schemas import dump_user_ref
from ..errors import ValidationFailed, field_error
from ..extensions import db, socketio
from ..schemas import iso
from ..sockets import admit_connection, connect_user, send_without_delay, socket_event, socket_user
from . import service
from .schemas import dump_author, dump_message, dump_room

NAMESPACE = service.NAMESPACE


# --- parsing -------------------------------------------------------------------------


def _data(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationFailed(
            "Send an object with the event's fields.", fields={"data": ["Expected an object."]}
        )
    return data


def _room_slug(data: dict) -> str:
    slug = data.get("room")
    if not isinstance(slug, str) or not 1 <= len(slug) <= 64:
        raise field_error("room", "Name a room.")
    return slug


def _room(data: dict):
    return service.get_room(_room_slug(data), viewer=socket_user())


# --- connection ----------------------------------------------------------------------


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    """Members only: the session cookie, or ``auth={"token": ...}``."""
    try:
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
        db.session.commit()
    except ConnectionRefusedError:
        raise
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
    return True


@socketio.on("disconnect", namespace=NAMESPACE)
def on_disconnect(reason=None):
    try:
        service.drop_connection(request.sid)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


# --- rooms ---------------------------------------------------------------------------


@socketio.on("join", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-join")
def on_join(data=None):
    """``{room, since?}`` -> room, who is online, and (with ``since``) what was missed.

    The socket enters the room's channel *before* the missed messages are read, so
    nothing committed in between is lost; it may arrive twice (live and in
    ``missed``), and clients keep the one copy per id.
    """
    data = _data(data)
    room = _room(data)
    since = service.parse_message_id(data.get("since"), "since")
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
    if since is not None:
        ack.update(_sync(room, since, data))
    return ack


def _sync(room, after: int, data: dict) -> dict:
    check_from = service.parse_message_id(data.get("check_from"), "check_from")
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
    data = _data(data)
    room = _room(data)
    after = service.parse_message_id(data.get("after"), "after")
    if after is None:
        raise field_error("after", "Say the last message id you have.")
    return {"ok": True, **_sync(room, after, data)}


@socketio.on("leave", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-leave")
def on_leave(data=None):
    """Stop receiving a room's events (membership is unchanged)."""
    data = _data(data)
    slug = _room_slug(data)
    room = service.find_room(slug)
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
    room = _room(_data(data))
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
    data = _data(data)
    room = _room(data)
    message = service.send_message(socket_user(), room, data.get("body"), nonce=data.get("nonce"))
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
    room = _room(_data(data))
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
    data = _data(data)
    room = _room(data)
    upto = service.parse_message_id(data.get("id"), "id")
    return {"ok": True, "unread": service.mark_read(socket_user(), room, upto)}


@socketio.on("delete", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-delete")
def on_delete(data=None):
    """``{id}``: the author or a moderator removes a message for everyone."""
    data = _data(data)
    message_id = service.parse_message_id(data.get("id"), "id")
    message = service.get_message(message_id, viewer=socket_user())
    service.delete_message(socket_user(), message)
    return {"ok": True, "id": message.id}


@socketio.on("mute", namespace=NAMESPACE)
@socket_event(limit="CHAT_EVENT_LIMIT", scope="chat-mute")
def on_mute(data=None):
    """``{room, username, minutes, reason?}`` (moderators)."""

    data = _data(data)
    room = _room(data)
    username = data.get("username")
    if not isinstance(username, str) or not username:
        raise field_error("username", "Name the member to mute.")
    target = service.find_user(username)
    until = service.mute(socket_user(), room, target, data.get("minutes"), data.get("reason") or "")
    return {"ok": True, "until": iso(until)}
