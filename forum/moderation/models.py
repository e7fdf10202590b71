from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import now
from ..database import PrimaryKey, StampedNow
from ..extensions import db


class AuditEntry(db.Model):
    """Append-only record of a moderator or admin action."""

    __tablename__ = "audit_log"

    id: Mapped[PrimaryKey]
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(48))  # thread.lock, post.hide, chat.mute...
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)

    actor: Mapped[User] = relationship()


FLAG_REASONS = ("spam", "inappropriate", "off_topic", "other")


class Flag(db.Model):
    """A member's report that something (a post, a review...) breaks the rules.

    One flag per member and target (the unique constraint refuses a second);
    moderators see open flags and decide with the target's own hide rule.
    """

    __tablename__ = "moderation_flags"
    __table_args__ = (
        UniqueConstraint("target_type", "target_id", "reporter_id", name="uq_flags_once"),
        Index("ix_moderation_flags_open", "target_type", "resolved_at", "target_id"),
    )

    id: Mapped[PrimaryKey]
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[StampedNow]
    resolved_at: Mapped[datetime | None]
