"""Chat tables: rooms, who belongs to them, messages, and live connections.

A room is public (listed for everyone, created by moderators), private (only its
members may read it) or direct (exactly two members). Messages carry two increasing
numbers: ``id`` (global) and ``seq`` (per room, gap-free): a client that sees a seq
jump knows it missed something and resyncs from the last id it saw.

``ChatConnection``/``ChatPresence`` record which socket (by Socket.IO sid) is in
which room. They live in the database, not in a process's memory, so presence and
"end this user's sockets" work across several server processes; rows left behind by
a process that died expire after ``PRESENCE_TTL``.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import now
from ..database import PrimaryKey, StampedNow
from ..extensions import db

ROOM_KINDS = ("public", "private", "direct")


class ChatRoom(db.Model):
    __tablename__ = "chat_rooms"

    id: Mapped[PrimaryKey]
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    topic: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16), index=True)  # public | private | direct
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The last seq handed out. Taking the next one is an UPDATE on this row, which
    # also serialises writers of one room, so ids grow in commit order per room.
    message_seq: Mapped[int] = mapped_column(default=0)
    last_message_id: Mapped[int | None]
    last_message_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]

    created_by: Mapped[User | None] = relationship()

    @property
    def channel(self) -> str:
        """The Socket.IO room (namespace /chat) carrying this room's events."""
        return f"room:{self.slug}"

    @property
    def is_public(self) -> bool:
        return self.kind == "public"

    @property
    def is_direct(self) -> bool:
        return self.kind == "direct"


class ChatMember(db.Model):
    """A member of a private or direct room; in a public room, someone who joined it.

    Also where a member's read position (unread counts) and a mute are kept.
    """

    __tablename__ = "chat_members"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("chat_rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")  # owner | member
    last_read_id: Mapped[int] = mapped_column(default=0)
    muted_until: Mapped[datetime | None]
    muted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    joined_at: Mapped[StampedNow]

    room: Mapped[ChatRoom] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def is_muted(self) -> bool:
        return self.muted_until is not None and self.muted_until > now()


class ChatMessage(db.Model):
    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("room_id", "seq", name="uq_chat_messages_room_seq"),
        # A resend after a lost acknowledgement carries the same nonce: stored once.
        UniqueConstraint("author_id", "nonce", name="uq_chat_messages_author_nonce"),
        # History pages and resync are range scans on (room_id, id).
        Index("ix_chat_messages_room_id_id", "room_id", "id"),
        # Community health's chat activity per day is a range scan on time.
        Index("ix_chat_messages_created_at", "created_at"),
    )

    id: Mapped[PrimaryKey]
    room_id: Mapped[int] = mapped_column(ForeignKey("chat_rooms.id", ondelete="CASCADE"))
    seq: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    nonce: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    embeds: Mapped[list] = mapped_column(JSON, default=list)  # ["product:42", ...]
    created_at: Mapped[StampedNow]
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    room: Mapped[ChatRoom] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ChatConnection(db.Model):
    """One open /chat socket, whichever server process holds it."""

    __tablename__ = "chat_connections"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The user's session_version when the socket authenticated: a later logout
    # (or suspension) makes the two differ and the sweep ends the socket.
    session_version: Mapped[int]
    connected_at: Mapped[StampedNow]
    seen_at: Mapped[datetime] = mapped_column(default=now, index=True)

    user: Mapped[User] = relationship()


class ChatPresence(db.Model):
    """Socket ``sid`` has joined ``room_id``: its user counts as online there."""

    __tablename__ = "chat_presence"

    sid: Mapped[str] = mapped_column(
        ForeignKey("chat_connections.sid", ondelete="CASCADE"), primary_key=True
    )
    room_id: Mapped[int] = mapped_column(
        ForeignKey("chat_rooms.id", ondelete="CASCADE"), primary_key=True, index=True
    )
