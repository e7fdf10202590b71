"""What members said in chat, as SQL expressions for other features that compose them
into ONE statement over members (campaigns' segments), and whether a member is
connected now (notification email holds DMs while they are): each builder takes a
column holding a member id and returns a correlated expression, never NULL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, String, cast, or_, select

from ...database import correlated_count, correlated_exists
from ...extensions import db
from ..models import ChatConnection, ChatMessage


def embedded_in_messages_sql(user_id, refs: list[str]) -> ColumnElement[bool]:
    """A live message by the member embeds one of ``refs`` (``"product:42"``)."""
    text = cast(ChatMessage.embeds, String)
    return correlated_exists(
        ChatMessage,
        ChatMessage.author_id == user_id,
        ChatMessage.deleted_at.is_(None),
        or_(*[text.contains(f'"{ref}"') for ref in refs]),
    )


def message_count_sql(user_id, since: datetime) -> ColumnElement[int]:
    """The member's live messages since ``since`` (0 without any)."""
    return correlated_count(
        ChatMessage,
        ChatMessage.author_id == user_id,
        ChatMessage.deleted_at.is_(None),
        ChatMessage.created_at >= since,
    )


def said_since_sql(user_id, bound: datetime) -> ColumnElement[bool]:
    """The member wrote a chat message after ``bound``."""
    return correlated_exists(
        ChatMessage, ChatMessage.author_id == user_id, ChatMessage.created_at > bound
    )


def connected_since(user_id: int, since: datetime) -> bool:
    """The member has a chat connection seen after ``since`` (online, any room)."""
    return (
        db.session.scalar(
            select(ChatConnection.sid)
            .where(ChatConnection.user_id == user_id, ChatConnection.seen_at > since)
            .limit(1)
        )
        is not None
    )
