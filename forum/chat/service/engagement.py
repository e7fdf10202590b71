"""Who chats where, as SELECTs for recommendations (insight trains on them) and health
(chat activity), so nobody outside chat names its tables. Public rooms only: a private
or direct room is never anyone else's business."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CompoundSelect, Select, and_, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

from ..models import ChatMember, ChatMessage, ChatRoom


def public_room_engagement_sql(before: datetime | None = None) -> Select:
    """``SELECT user_id, room_id, messages``: members who joined a public room or wrote
    in it (live messages before ``before``), with how many messages they wrote."""
    said = (
        select(
            ChatMessage.author_id.label("user_id"),
            ChatMessage.room_id.label("room_id"),
            func.count().label("messages"),
        )
        .join(ChatRoom, ChatRoom.id == ChatMessage.room_id)
        .where(ChatRoom.kind == "public", ChatMessage.deleted_at.is_(None))
    )
    joined = (
        select(
            ChatMember.user_id.label("user_id"),
            ChatMember.room_id.label("room_id"),
            literal(0).label("messages"),
        )
        .join(ChatRoom, ChatRoom.id == ChatMember.room_id)
        .where(ChatRoom.kind == "public")
    )
    if before is not None:
        said = said.where(ChatMessage.created_at < before)
        joined = joined.where(ChatMember.joined_at < before)
    both = said.group_by(ChatMessage.author_id, ChatMessage.room_id).union_all(joined).subquery()
    return select(
        both.c.user_id, both.c.room_id, func.sum(both.c.messages).label("messages")
    ).group_by(both.c.user_id, both.c.room_id)


def public_rooms_sql() -> Select:
    """``SELECT room_id, slug, name`` of every public room."""
    return select(
        ChatRoom.id.label("room_id"), ChatRoom.slug.label("slug"), ChatRoom.name.label("name")
    ).where(ChatRoom.kind == "public")


def messages_between(start: datetime, end: datetime) -> Select:
    """``SELECT author_id, room_kind, created_at`` of live messages written in [start,
    end), to aggregate (chat activity per day: messages and distinct speakers)."""
    return (
        select(
            ChatMessage.author_id.label("author_id"),
            ChatRoom.kind.label("room_kind"),
            ChatMessage.created_at.label("created_at"),
        )
        .join(ChatRoom, ChatRoom.id == ChatMessage.room_id)
        .where(
            ChatMessage.deleted_at.is_(None),
            ChatMessage.created_at >= start,
            ChatMessage.created_at < end,
        )
    )


def widget_messages_sql() -> Select:
    """``SELECT message_id, room_id, author_id, created_at, body_html`` of the live
    messages that embed a widget (for seeders of who saw them: the demo's insight)."""
    return select(
        ChatMessage.id.label("message_id"),
        ChatMessage.room_id.label("room_id"),
        ChatMessage.author_id.label("author_id"),
        ChatMessage.created_at.label("created_at"),
        ChatMessage.body_html.label("body_html"),
    ).where(ChatMessage.deleted_at.is_(None), ChatMessage.body_html.contains("<plaza-embed"))


def message_readers_sql(message_ids: list[int]) -> CompoundSelect:
    """``SELECT message_id, user_id, at`` of the members of each message's room who were
    active there after it, its author left out: read down to it (``at`` NULL: when is not
    kept) or wrote there later (``at`` their first later message)."""
    later = aliased(ChatMessage)
    read = (
        select(
            ChatMessage.id.label("message_id"),
            ChatMember.user_id.label("user_id"),
            null().label("at"),
        )
        .join(ChatMember, ChatMember.room_id == ChatMessage.room_id)
        .where(
            ChatMessage.id.in_(message_ids),
            ChatMember.last_read_id >= ChatMessage.id,
            ChatMember.user_id != ChatMessage.author_id,
        )
    )
    wrote = (
        select(
            ChatMessage.id.label("message_id"),
            later.author_id.label("user_id"),
            func.min(later.created_at).label("at"),
        )
        .join(later, and_(later.room_id == ChatMessage.room_id, later.id > ChatMessage.id))
        .join(
            ChatMember,
            and_(ChatMember.room_id == ChatMessage.room_id, ChatMember.user_id == later.author_id),
        )
        .where(
            ChatMessage.id.in_(message_ids),
            later.deleted_at.is_(None),
            later.author_id != ChatMessage.author_id,
        )
        .group_by(ChatMessage.id, later.author_id)
    )
    return union_all(wrote, read)  # the first SELECT types ``at`` (a UTC datetime)
