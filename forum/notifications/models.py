from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import PrimaryKey, StampedNow
from ..extensions import db


class Notification(db.Model):
    """One line in a member's bell. A grouped one (``target`` set, e.g. ``thread:12``)
    gathers every actor of the same kind about the same target while it is unread:
    ``actor_names`` (newest first), ``actor_count`` distinct actors, ``count`` events."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_unread", "user_id", "read_at", "id"),
        # At most one open (unread) group per member, kind and target: two replies at
        # once meet here rather than making two rows.
        Index(
            "uq_notifications_open_group",
            "user_id",
            "kind",
            "target",
            unique=True,
            sqlite_where=text("read_at IS NULL AND target IS NOT NULL"),
            postgresql_where=text("read_at IS NULL AND target IS NOT NULL"),
        ),
        Index("ix_notifications_user_updated", "user_id", "updated_at"),
    )

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))  # mention | reply | ...
    text: Mapped[str] = mapped_column(String(300))  # plain text, escaped when shown
    url: Mapped[str] = mapped_column(String(300))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    target: Mapped[str | None] = mapped_column(String(64))
    actor_names: Mapped[list] = mapped_column(JSON, default=list)
    actor_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[StampedNow]
    updated_at: Mapped[StampedNow]  # the newest event it holds; the bell sorts by it
    read_at: Mapped[datetime | None]

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class NotificationMute(db.Model):
    """A notification type the member turned off in the bell: nothing of it is made."""

    __tablename__ = "notification_mutes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[StampedNow]
