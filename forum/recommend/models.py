from datetime import datetime

from sqlalchemy import Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import PrimaryKey, UTCDateTime
from ..extensions import db

KINDS = ("thread", "offer", "event", "room")
#: ``subject`` of the list everyone without a list of their own gets: popular this week.
POPULAR = "popular"


class Recommendation(db.Model):
    """One ranked suggestion, written by the periodic job (``service.recompute``) and
    read as-is: ``subject`` is whose list it is ("user:3"), the thread it is shown under
    ("thread:42", Suggested threads) or ``POPULAR``; ``target_id`` the thread, product,
    event or chat room; ``title`` and ``reason`` are plain text as computed (escaped
    when shown). ``category_id`` (threads) lets serving drop what the viewer may no
    longer read. Serving is one range scan of ``ix_recommendations_subject``."""

    __tablename__ = "recommendations"
    __table_args__ = (Index("ix_recommendations_subject", "subject", "kind", "rank"),)

    id: Mapped[PrimaryKey]
    subject: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(8))
    rank: Mapped[int]
    target_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(240))
    category_id: Mapped[int | None]
    slug: Mapped[str | None] = mapped_column(String(64))  # a chat room's, for its link
    score: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
