"""Handlers of the /live namespace."""

from flask_socketio import join_room, leave_room

from ..errors import Forbidden, ValidationFailed
from ..extensions import socketio
from ..sockets import admit_connection, connect_user, send_without_delay, socket_event, socket_user
from . import may_watch

NAMESPACE = "/live"
MAX_ROOM_NAME = 80


@socketio.on("connect", namespace=NAMESPACE)
def on_connect(auth=None):
    admit_connection()
    send_without_delay()
    user = connect_user(auth)
    if user is not None:
        join_room(f"user:{user.id}")
    return True  # anonymous readers may watch public rooms (threads, offers, events)


def _room_from(data) -> str:
    room = data.get("room") if isinstance(data, dict) else None
    if not isinstance(room, str) or not 3 <= len(room) <= MAX_ROOM_NAME:
        raise ValidationFailed("Name a room to watch.", fields={"room": ["Name a room to watch."]})
    return room


@socketio.on("watch", namespace=NAMESPACE)
@socket_event(login=False)
def on_watch(data=None):
    room = _room_from(data)
    if not may_watch(socket_user(), room):
        raise Forbidden("You cannot watch that.")
    join_room(room)
    return {"ok": True, "room": room}


@socketio.on("unwatch", namespace=NAMESPACE)
@socket_event(login=False)
def on_unwatch(data=None):
    room = _room_from(data)
    leave_room(room)
    return {"ok": True}
