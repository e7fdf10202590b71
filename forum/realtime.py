"""The live layer's outbound half: what services push, sent only after the commit.

The live layer has three modules; each says which part it is:

- ``forum.realtime`` (this module): what *services* use. ``announce`` queues a push,
  ``disconnect_user`` / ``leave_room`` / ``disconnect_sockets`` queue socket actions;
  all wait on the database session in ONE after-commit queue and run only after the
  transaction commits (dropped on rollback), so nobody ever sees state that did not
  happen. It also builds the Socket.IO client manager (Redis and friends). Services
  never import Socket.IO.
- ``forum.sockets``: what every *socket handler* shares (auth, rate limits, errors as
  acks, commit-then-push); feature-agnostic.
- ``forum.live``: the ``/live`` namespace pages use to *watch* rooms; who may watch a
  ``kind:...`` room is asked through ``signals.room_watch_allowed``.

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
from collections.abc import Callable
from dataclasses import dataclass, field

import socketio as python_socketio
from flask import current_app, g, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import signals
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
    """A push: ``event`` with ``payload`` to everyone in ``room`` of ``namespace``."""

    event: str
    payload: dict
    room: str
    namespace: str = "/live"
    extra: dict = field(default_factory=dict)

    def deliver(self) -> None:
        socketio.emit(self.event, self.payload, to=self.room, namespace=self.namespace)


@dataclass
class SessionsEnded:
    """Close every socket of ``user_id`` (every namespace, every process), then send
    ``signals.user_sessions_ended`` so features that track sockets forget theirs."""

    user_id: int

    def deliver(self) -> None:
        _close_user_sockets(f"user:{self.user_id}")
        signals.user_sessions_ended.send(None, user_id=self.user_id)


@dataclass
class LeaveRoom:
    """Take sockets ``sids`` out of ``room`` (in whichever process holds them)."""

    sids: list[str]
    room: str
    namespace: str

    def deliver(self) -> None:
        for sid in self.sids:
            socketio.server.leave_room(sid, self.room, namespace=self.namespace)


@dataclass
class CloseSockets:
    """Disconnect sockets ``sids`` of ``namespace`` (the queue reaches their process)."""

    sids: list[str]
    namespace: str

    def deliver(self) -> None:
        close_sockets(self.sids, self.namespace)


@dataclass
class AfterCommit:
    """Run ``callback(*args)`` once the transaction commits (queue a Celery task for
    rows a worker must see); a rollback discards it."""

    callback: Callable
    args: tuple = ()

    def deliver(self) -> None:
        self.callback(*self.args)


def after_commit(callback: Callable, *args) -> None:
    """Queue ``callback(*args)`` for after the current transaction commits."""
    _queue(AfterCommit(callback, args))


def _queue(item) -> None:
    db.session.info.setdefault(_PENDING_KEY, []).append(item)


def announce(event_name: str, payload: dict, *, room: str, namespace: str = "/live") -> None:
    """Queue a push to ``room``; it is emitted once the current transaction commits."""
    _queue(Announcement(event_name, payload, room, namespace))


def disconnect_user(user_id: int) -> None:
    """Queue closing every open socket of ``user_id``, in every namespace and every
    server process (logout, password change, suspension), once the transaction commits;
    then ``signals.user_sessions_ended`` is sent (outside the committed session)."""
    _queue(SessionsEnded(user_id))


def leave_room(sids: list[str], room: str, *, namespace: str) -> None:
    """Queue taking sockets ``sids`` out of ``room`` once the transaction commits."""
    if sids:
        _queue(LeaveRoom(list(sids), room, namespace))


def disconnect_sockets(sids: list[str], *, namespace: str) -> None:
    """Queue closing sockets ``sids`` once the transaction commits."""
    if sids:
        _queue(CloseSockets(list(sids), namespace))


def close_sockets(sids: list[str], namespace: str) -> None:
    """Close sockets now (after a commit, or from a ``user_sessions_ended`` receiver).

    A local socket's disconnect handler runs right here: it gets its own app context
    (and database session), not the one that is committing."""
    if socketio.server is None:
        return
    with current_app._get_current_object().app_context():
        for sid in sids:
            socketio.server.disconnect(sid, namespace=namespace)


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


def _emit(item) -> None:
    item.deliver()


def _after_commit(session: Session) -> None:
    # SQLAlchemy also fires after_commit when a SAVEPOINT is released (begin_nested):
    # only the outermost commit makes the rows visible to others.
    if session.in_nested_transaction():
        return
    pending = session.info.pop(_PENDING_KEY, None)
    for item in pending or ():
        try:
            _emit(item)
        except (RedisError, OSError) as exc:
            # The transaction is committed: a push that cannot leave must not fail it.
            _mark_undelivered(
                repr(getattr(item, "event", type(item).__name__)), f"{type(exc).__name__}: {exc}"
            )


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
