"""Connections and presence: which sockets are open, who is online in which room, sweeping the dead."""

from sqlalchemy import delete, or_, select, update

from ... import realtime
from ...accounts.models import User
from ...clock import now
from ...extensions import db
from ..models import ChatConnection, ChatPresence, ChatRoom
from ..schemas import dump_author
from .common import (
    NAMESPACE,
    insert_ignore,
    presence_ttl,
)


def register_connection(sid: str, user: User) -> None:
    at = now()
    insert_ignore(
        ChatConnection,
        sid=sid,
        user_id=user.id,
        session_version=user.session_version,
        connected_at=at,
        seen_at=at,
    )


def touch_connection(sid: str, user: User) -> bool:
    """Refresh a socket's heartbeat; False when its entry had expired (the client should rejoin)."""
    touched = db.session.execute(
        update(ChatConnection).where(ChatConnection.sid == sid).values(seen_at=now())
    ).rowcount
    if not touched:
        register_connection(sid, user)
    return bool(touched)


def online_ids(room: ChatRoom, user_ids: list[int] | None = None) -> set[int]:
    query = (
        select(ChatConnection.user_id)
        .distinct()
        .join(ChatPresence, ChatPresence.sid == ChatConnection.sid)
        .where(ChatPresence.room_id == room.id, ChatConnection.seen_at > now() - presence_ttl())
    )
    if user_ids is not None:
        query = query.where(ChatConnection.user_id.in_(user_ids))
    return set(db.session.scalars(query))


def online_users(room: ChatRoom) -> list[User]:
    ids = online_ids(room)
    if not ids:
        return []
    return list(
        db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.username_key))
    )


def announce_presence(room: ChatRoom, user: User, *, online: bool) -> None:
    realtime.announce(
        "presence",
        {"room": room.slug, "user": dump_author(user), "online": online},
        room=room.channel,
        namespace=NAMESPACE,
    )


def enter(sid: str, user: User, room: ChatRoom) -> None:
    """Socket ``sid`` joined ``room``: its user is online there (announced on the first socket)."""
    was_online = bool(online_ids(room, [user.id]))
    register_connection(sid, user)
    insert_ignore(ChatPresence, sid=sid, room_id=room.id)
    if not was_online:
        announce_presence(room, user, online=True)


def exit_room(sid: str, user: User, room: ChatRoom) -> None:
    db.session.execute(
        delete(ChatPresence).where(ChatPresence.sid == sid, ChatPresence.room_id == room.id)
    )
    if not online_ids(room, [user.id]):
        announce_presence(room, user, online=False)


def _drop(sids: list[str]) -> int:
    """Forget these sockets; announce who went offline where. Returns how many were known."""
    if not sids:
        return 0
    rows = db.session.execute(
        select(ChatConnection.user_id, ChatPresence.room_id)
        .join(ChatPresence, ChatPresence.sid == ChatConnection.sid)
        .where(ChatConnection.sid.in_(sids))
    ).all()
    db.session.execute(delete(ChatPresence).where(ChatPresence.sid.in_(sids)))
    dropped = db.session.execute(
        delete(ChatConnection).where(ChatConnection.sid.in_(sids))
    ).rowcount
    for user_id, room_id in set(rows):
        room = db.session.get(ChatRoom, room_id)
        user = db.session.get(User, user_id)
        if room is not None and user is not None and not online_ids(room, [user_id]):
            announce_presence(room, user, online=False)
    return dropped


def drop_connection(sid: str) -> None:
    """The socket closed."""
    _drop([sid])


def sockets_of(user_id: int) -> list[str]:
    return list(
        db.session.scalars(select(ChatConnection.sid).where(ChatConnection.user_id == user_id))
    )


def sweep_connections() -> int:
    """Close sockets whose session ended (logout everywhere, password change, suspension)
    and forget sockets not heard from within the presence TTL (their process died or
    the client stopped its heartbeat). Idempotent; returns how many were swept."""
    at = now()
    ended = list(
        db.session.scalars(
            select(ChatConnection.sid)
            .join(User, User.id == ChatConnection.user_id)
            .where(
                or_(
                    User.session_version != ChatConnection.session_version,
                    User.suspended_until > at,
                )
            )
        )
    )
    silent = list(
        db.session.scalars(
            select(ChatConnection.sid).where(ChatConnection.seen_at <= at - presence_ttl())
        )
    )
    doomed = list(dict.fromkeys(ended + silent))
    count = _drop(doomed)
    realtime.disconnect_sockets(doomed, namespace=NAMESPACE)
    return count
