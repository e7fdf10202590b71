"""Insight's own table, for promotion evaluation: who was exposed to which widget.

Attribution counts impressions once per viewer and day but keeps no viewer (its seen-set
is hashed and pruned), so the evaluation keeps the one fact it needs: a member's first
sight of a widget in one post or message. One row per (member, source, widget), written
once (``INSERT ... ON CONFLICT DO NOTHING``) after the page is built.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..database import PrimaryKey
from ..extensions import db


class Exposure(db.Model):
    __tablename__ = "insight_exposures"
    __table_args__ = (
        UniqueConstraint(
            "user_id",
            "embed_kind",
            "embed_id",
            "source_kind",
            "source_id",
            name="uq_insight_exposures_key",
        ),
        Index("ix_insight_exposures_embed", "embed_kind", "embed_id", "first_seen_at"),
        Index("ix_insight_exposures_seen", "first_seen_at"),
    )

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    embed_kind: Mapped[str] = mapped_column(String(16))
    embed_id: Mapped[int]
    source_kind: Mapped[str] = mapped_column(String(8))  # "post" | "message"
    source_id: Mapped[int]
    author_id: Mapped[int | None]
    first_seen_at: Mapped[datetime]
