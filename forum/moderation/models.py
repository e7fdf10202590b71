"""Moderator actions and the audit log; flags, the review queue; site settings."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import now
from ..database import PrimaryKey
from ..extensions import db


class AuditEntry(db.Model):
    """Append-only record of a moderator or admin action (or the system's: an auto-hide).

    ``subject`` is the person acted on (the item's author, the silenced member), so
    every entry links to the item and the people."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: the system acted (a flag score passed the threshold).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(48))  # thread.lock, post.hide, chat.mute...
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])


FLAG_REASONS = ("spam", "inappropriate", "off_topic", "other")
FLAG_TARGETS = ("post", "message", "review", "user", "product")
ITEM_KINDS = ("flagged", "first_post")
ITEM_STATUSES = ("pending", "agreed", "disagreed", "ignored")
DECISIONS = ("agree", "disagree", "ignore")


class ReviewItem(db.Model):
    """One thing awaiting (or past) a moderator's decision: a flagged target or a new
    account's held first post. One row per target; new flags after a decision reopen it.

    ``score`` sums the open flags' weights and only ever moves in SQL
    (``score = score + :w``); ``auto_hidden`` turns true by one guarded UPDATE, so the
    score hides an item at most once however many flaggers race."""

    __tablename__ = "moderation_items"
    __table_args__ = (
        UniqueConstraint("target_type", "target_id", name="uq_moderation_items_target"),
        Index("ix_moderation_items_queue", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="flagged")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    score: Mapped[int] = mapped_column(default=0, server_default="0")
    flag_count: Mapped[int] = mapped_column(default=0, server_default="0")
    auto_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=now)

    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    claimed_by: Mapped[User | None] = relationship(foreign_keys=[claimed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"


class Flag(db.Model):
    """A member's report that something (a post, a review...) breaks the rules.

    One flag per member and target (the unique constraint refuses a second). ``weight``
    is what it added to its item's score (the flagger's trust and past accuracy when
    flagging); ``outcome`` is the moderator's decision once made (agreed, disagreed,
    ignored): the flagger's accuracy counts agreed against disagreed.
    """

    __tablename__ = "moderation_flags"
    __table_args__ = (
        UniqueConstraint("target_type", "target_id", "reporter_id", name="uq_flags_once"),
        Index("ix_moderation_flags_open", "target_type", "resolved_at", "target_id"),
        Index("ix_moderation_flags_reporter", "reporter_id", "outcome"),
    )

    id: Mapped[PrimaryKey]
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int]
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderation_items.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    weight: Mapped[int] = mapped_column(default=0, server_default="0")
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=now)
    resolved_at: Mapped[datetime | None]

    reporter: Mapped[User] = relationship()


class SiteSetting(db.Model):
    """One admin-edited site setting (name, logo, guidelines, thresholds); a missing key
    reads as its default from the app config."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=now, onupdate=now)
