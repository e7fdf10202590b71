"""Trust's tables: the editable rules, what each member did that counts, and level changes.

``TrustActivity`` holds one row of running counters per member (moved in SQL, never
read-then-written); ``TrustVisit`` and ``TrustThreadRead`` are the distinct-day and
distinct-thread sets the counters are taken from, so a repeated view counts once.
``TrustChange`` is the append-only history of every level move (rules or staff).
"""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..database import UTCDateTime, cascade_key
from ..extensions import db


class TrustRule(db.Model):
    """One requirement of one level: ``metric`` must reach ``threshold`` (a ceiling for
    ``max_recent_flags``). No rows at all means the defaults in ``service.rules``."""

    __tablename__ = "trust_rules"
    __table_args__ = (UniqueConstraint("level", "metric", name="uq_trust_rules_level_metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[int] = mapped_column(Integer)  # 1-3; 0 is the start, 4 is granted by staff
    metric: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TrustActivity(db.Model):
    __tablename__ = "trust_activity"

    user_id: Mapped[int] = cascade_key("users.id")
    topics_entered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    posts_read: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reading_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    days_visited: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    likes_given: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    likes_received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    replies: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrustVisit(db.Model):
    """A day (UTC) on which the member read or wrote something."""

    __tablename__ = "trust_visits"

    user_id: Mapped[int] = cascade_key("users.id")
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    # Reading time credited on this day, held to TRUST_READ_SECONDS_PER_DAY.
    reading_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class TrustThreadRead(db.Model):
    """A thread the member read, and the highest post position their read beacon reported."""

    __tablename__ = "trust_thread_reads"

    user_id: Mapped[int] = cascade_key("users.id")
    thread_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    posts_seen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class TrustChange(db.Model):
    """Append-only: a member's level moved (``reason`` "rules" or a staff grant's text)."""

    __tablename__ = "trust_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    old_level: Mapped[int] = mapped_column(Integer)
    new_level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A staff grant is kept by the rules: they never move the member below it.
    granted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class BadgeAward(db.Model):
    """A badge a member earned (once per badge), shown on their profile."""

    __tablename__ = "trust_badge_awards"
    __table_args__ = (UniqueConstraint("user_id", "badge", name="uq_trust_badge_awards_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    badge: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200), default="")
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class BadgeMark(db.Model):
    """One distinct thing counting towards a badge (a newcomer welcomed, an event
    attended): the unique key makes a repeat count once."""

    __tablename__ = "trust_badge_marks"

    user_id: Mapped[int] = cascade_key("users.id")
    badge: Mapped[str] = mapped_column(String(32), primary_key=True)
    ref_id: Mapped[int] = mapped_column(Integer, primary_key=True)
