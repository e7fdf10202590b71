"""The one place that pushes live updates.

Services call ``announce(event, payload, room=..., namespace=...)``. Nothing is
sent at that moment: the message waits on the database session and goes out
only after the transaction commits (it is dropped on rollback), so nobody ever
sees state that did not happen. Services never import Socket.IO.

Room names say what they carry: ``room:general``, ``thread:42``, ``offer:product:7``,
``user:3``.
"""

from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session

from .extensions import db, socketio

_PENDING_KEY = "plaza_pending_announcements"


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
        _emit(item)


def _after_rollback(session: Session) -> None:
    # A rollback of the outermost transaction discards what it would have announced.
    if not session.in_transaction():
        session.info.pop(_PENDING_KEY, None)


event.listen(Session, "after_commit", _after_commit)
event.listen(Session, "after_soft_rollback", lambda session, previous: _after_rollback(session))
