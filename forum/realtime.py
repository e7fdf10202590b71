"""The one place that pushes live updates.

Services call ``announce(event, payload, room=..., namespace=...)``. Nothing is
sent at that moment: the message waits on the database session and goes out
only after the transaction commits (it is dropped on rollback), so nobody ever
sees state that did not happen. Services never import Socket.IO.

Room names say what they carry: ``room:general``, ``thread:42``, ``offer:product:7``,
``user:3``.

With several processes the pushes travel through Redis pub/sub. When Redis is
unreachable a push reaches only this process's own sockets: it is logged, and
``undelivered()`` says so for the rest of the request or socket event, so an
acknowledgement can tell the client the truth (``delivered: false``); what was
stored is still there for every client's resync on reconnect.
"""

import functools
import logging
from dataclasses import dataclass, field

import socketio as python_socketio
from flask import current_app, g, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db, socketio

log = logging.getLogger(__name__)

_PENDING_KEY = "plaza_pending_announcements"
_UNDELIVERED_KEY = "plaza_live_undelivered"


def _mark_undelivered(what: str, detail: str = "") -> None:
    log.warning(
        "live update %s not published: the message queue is unreachable%s; "
        "clients catch up by seq when they reconnect",
        what,
        f" ({detail})" if detail else "",
    )
    if has_app_context():
        g.setdefault(_UNDELIVERED_KEY, True)


def undelivered() -> bool:
    """True when a push of the current request/socket event could not be published."""
    return has_app_context() and bool(g.get(_UNDELIVERED_KEY, False))


@dataclass
class Announcement:
    event: str
    payload: dict
    room: str
    namespace: str = "/live"
    extra: dict = field(default_factory=dict)


def announce(event_name: str, payload: dict, *, room: str, namespace: str = "/live") -> None:
    """Queue a push to ``room``; it is emitted once the current transaction commits."""
    db.session.info.setdefault(_PENDING_KEY, []).append(
        Announcement(event_name, payload, room, namespace)
    )


_SOCKET_CLOSERS: list = []


def on_disconnect_user(closer):
    """Register ``closer(user_id)``: a namespace that tracks its sockets closes them in
    every server process (it runs after the commit, outside the committed session)."""
    _SOCKET_CLOSERS.append(closer)
    return closer


def disconnect_user(user_id: int) -> None:
    """Queue closing every open socket of ``user_id``, in every namespace and every
    server process (logout, password change, suspension), once the transaction commits."""
    db.session.info.setdefault(_PENDING_KEY, []).append(
        Announcement("__disconnect__", {"user_id": user_id}, f"user:{user_id}", "*")
    )


def _namespaces() -> list[str]:
    server = socketio.server
    return sorted(server.handlers) if server is not None else ["/chat", "/live"]


def _close_user_sockets(room: str) -> None:
    """Every namespace puts a user's sockets in their ``user:ID`` room; closing that room
    disconnects them (``UserRoomsCloseSockets``), in every process when a message queue
    is configured. Socket handlers also re-check the session version on every event, so
    a socket that missed this is refused anyway."""
    for namespace in _namespaces():
        socketio.emit("logged_out", {}, to=room, namespace=namespace)
    # A local socket's disconnect handler runs right here: give it its own app context
    # (and database session), not the one that is committing.
    with current_app._get_current_object().app_context():
        for namespace in _namespaces():
            socketio.close_room(room, namespace=namespace)


def _emit(item: Announcement) -> None:
    if item.event == "__disconnect__":
        _close_user_sockets(item.room)
        for closer in _SOCKET_CLOSERS:
            closer(item.payload["user_id"])
        return
    socketio.emit(item.event, item.payload, to=item.room, namespace=item.namespace)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    for item in pending or ():
        try:
            _emit(item)
        except (RedisError, OSError) as exc:
            # The transaction is committed: a push that cannot leave must not fail it.
            _mark_undelivered(repr(item.event), f"{type(exc).__name__}: {exc}")


def _after_rollback(session: Session) -> None:
    # A rollback of the outermost transaction discards what it would have announced.
    if not session.in_transaction():
        session.info.pop(_PENDING_KEY, None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", lambda session, previous: _after_rollback(session))


# --- client managers -----------------------------------------------------------------


def is_user_room(room) -> bool:
    return isinstance(room, str) and room.startswith("user:") and room[5:].isdigit()


class UserRoomsCloseSockets:
    """Client-manager mixin: closing a ``user:ID`` room disconnects the sockets in it.

    ``close_room`` is one of the operations python-socketio's queue managers (Redis,
    Kombu...) replay in every server process, so each process disconnects the sockets
    of that user it holds, whatever the namespace. Both the local and the replayed
    close end in ``basic_close_room``.
    """

    def basic_close_room(self, room, namespace):
        if is_user_room(room):
            sids = [sid for sid, _ in self.get_participants(namespace, room)]
            for sid in sids:
                # Only sockets of this process are here; the handler gets its own context.
                self.server.disconnect(sid, namespace=namespace, ignore_queue=True)
        return super().basic_close_room(room, namespace)


class ReportsFailedPublish:
    """Redis-manager mixin: a publish python-socketio gives up on is reported, not silent."""

    def _publish(self, data):
        result = super()._publish(data)
        if result is None:  # python-socketio logged the error and gave up
            _mark_undelivered(repr(data.get("event") or data.get("method")))
        return result


class ReportingRedisManager(ReportsFailedPublish, python_socketio.RedisManager):
    pass


def client_manager(app) -> python_socketio.Manager:
    """The Socket.IO client manager for ``app``: in-process, or through the message queue
    of ``SOCKETIO_MESSAGE_QUEUE`` (the same choice Flask-SocketIO makes from the URL)."""
    url = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url:
        return _closing(python_socketio.Manager)()
    if url.startswith(("redis://", "rediss://")):
        # Fail fast on an unreachable host instead of holding the request.
        return _closing(ReportingRedisManager)(
            url,
            channel=app.config["SOCKETIO_CHANNEL"],
            write_only=False,
            redis_options={"socket_connect_timeout": 2},
        )
    if url.startswith("kafka://"):
        base = python_socketio.KafkaManager
    elif url.startswith("zmq"):
        base = python_socketio.ZmqManager
    else:
        base = python_socketio.KombuManager
    return _closing(base)(url, channel=app.config["SOCKETIO_CHANNEL"], write_only=False)


@functools.cache
def _closing(base: type) -> type:
    return type(f"Closing{base.__name__}", (UserRoomsCloseSockets, base), {})
