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

import logging
from dataclasses import dataclass, field

import socketio as python_socketio
from flask import g, has_app_context
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


class ReportingRedisManager(python_socketio.RedisManager):
    """Socket.IO's Redis manager, but a publish it gives up on is reported, not silent."""

    def _publish(self, data):
        result = super()._publish(data)
        if result is None:  # python-socketio logged the error and gave up
            _mark_undelivered(repr(data.get("event") or data.get("method")))
        return result


def queue_options(config) -> dict:
    """The ``client_manager`` for ``socketio.init_app`` (always given: the extension
    object is shared by every app in a process, so a stale manager must not linger)."""
    url = config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url:
        return {"client_manager": None}
    if not url.startswith(("redis://", "rediss://")):
        return {}  # another broker: Flask-SocketIO builds its manager
    return {
        "client_manager": ReportingRedisManager(
            url,
            channel=config["SOCKETIO_CHANNEL"],
            write_only=False,
            # Fail fast on an unreachable host instead of holding the request.
            redis_options={"socket_connect_timeout": 2},
        )
    }


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
    """Queue closing every open socket of ``user_id`` (logout, suspension)."""
    db.session.info.setdefault(_PENDING_KEY, []).append(
        Announcement("__disconnect__", {"user_id": user_id}, f"user:{user_id}", "*")
    )


def _emit(item: Announcement) -> None:
    if item.event == "__disconnect__":
        # Every namespace puts a user's sockets in their ``user:ID`` room; socket
        # handlers also re-check the session version on every event, so a socket
        # that missed this message is refused anyway.
        for namespace in ("/chat", "/live"):
            socketio.emit("logged_out", {}, to=item.room, namespace=namespace)
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
