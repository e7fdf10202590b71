"""The sidebar and read positions: unread counts, joining a public room, marking read."""

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update

from ... import realtime
from ...accounts.models import User
from ...clock import now
from ...errors import NotFound
from ...extensions import db
from ...notifications import service as notifications
from ..models import ChatMember, ChatMessage, ChatRoom
from .common import (
    NAMESPACE,
    RoomEntry,
    add_member,
    membership,
    room_target,
)


def unread_counts(user: User) -> dict[int, int]:
    """Unread messages per room the user belongs to (not their own, not deleted)."""
    rows = db.session.execute(
        select(ChatMember.room_id, func.count(ChatMessage.id))
        .join(
            ChatMessage,
            and_(
                ChatMessage.room_id == ChatMember.room_id, ChatMessage.id > ChatMember.last_read_id
            ),
        )
        .where(
            ChatMember.user_id == user.id,
            ChatMessage.deleted_at.is_(None),
            ChatMessage.author_id != user.id,
        )
        .group_by(ChatMember.room_id)
    )
    return {room_id: count for room_id, count in rows}


def unread_count(user: User, room: ChatRoom) -> int:
    member = membership(room, user)
    if member is None:
        return 0
    return (
        db.session.scalar(
            select(func.count(ChatMessage.id)).where(
                ChatMessage.room_id == room.id,
                ChatMessage.id > member.last_read_id,
                ChatMessage.deleted_at.is_(None),
                ChatMessage.author_id != user.id,
            )
        )
        or 0
    )


def rooms_for(user: User) -> list[RoomEntry]:
    """Public rooms (by name), then the user's private rooms and direct conversations (latest first)."""
    joined = {
        m.room_id: m
        for m in db.session.scalars(select(ChatMember).where(ChatMember.user_id == user.id))
    }
    unread = unread_counts(user)
    rooms = list(
        db.session.scalars(
            select(ChatRoom).where(
                or_(ChatRoom.kind == "public", ChatRoom.id.in_(list(joined) or [0]))
            )
        )
    )
    direct_ids = [room.id for room in rooms if room.is_direct]
    others: dict[int, User] = {}
    if direct_ids:
        for room_id, other in db.session.execute(
            select(ChatMember.room_id, User)
            .join(User, User.id == ChatMember.user_id)
            .where(ChatMember.room_id.in_(direct_ids), ChatMember.user_id != user.id)
        ):
            others[room_id] = other
    entries = []
    for room in rooms:
        other = others.get(room.id)
        name = other.username if (room.is_direct and other) else room.name
        entries.append(RoomEntry(room, name, unread.get(room.id, 0), room.id in joined, other))
    order = {"public": 0, "private": 1, "direct": 2}
    epoch = datetime.min.replace(tzinfo=now().tzinfo)

    def key(entry: RoomEntry):
        room = entry.room
        if room.is_public:
            return (0, entry.name.casefold(), 0.0)
        return (
            order[room.kind],
            "",
            -(room.last_message_at or room.created_at or epoch).timestamp(),
        )

    return sorted(entries, key=key)


def join(user: User, room: ChatRoom) -> ChatMember:
    """Membership of a room the user may read; joining a public room records it."""
    member = membership(room, user)
    if member is None:
        if not room.is_public:
            raise NotFound("No such room.")
        add_member(room, user.id)
        member = membership(room, user)
    return member


def mark_read(user: User, room: ChatRoom, message_id: int | None = None) -> int:
    """Move the read position forward (never back); returns the room's unread count after."""
    member = membership(room, user)
    if member is None:
        return 0
    latest = room.last_message_id or 0
    upto = latest if message_id is None else min(message_id, latest)
    moved = db.session.execute(
        update(ChatMember)
        .where(
            ChatMember.room_id == room.id,
            ChatMember.user_id == user.id,
            ChatMember.last_read_id < upto,
        )
        .values(last_read_id=upto)
    ).rowcount
    if moved:
        realtime.announce(
            "read",
            {"room": room.slug, "last_read_id": upto},
            room=f"user:{user.id}",
            namespace=NAMESPACE,
        )
    if upto >= latest:
        # Reading the room to its end is seeing what the bell grouped about it
        # (mentions, direct messages); the next message starts a new group.
        notifications.mark_seen(user.id, target=room_target(room))
    return unread_count(user, room)
