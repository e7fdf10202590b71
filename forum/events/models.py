"""Events, sign-ups, the host's messages and calendar feeds.

Seats and the waitlist live on the event row as counters that only move in SQL:
``seats_taken`` (confirmed sign-ups) and ``waitlist_counter`` (the last waitlist
ticket handed out). Every transaction that changes seats or the waitlist first
updates the event row, so on PostgreSQL they serialize on its row lock. A
waitlisted sign-up holds a ticket, unique per event; the position a member sees
is its rank among the tickets still waiting, so it has no gaps.
"""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import now
from ..database import PrimaryKey, StampedNow, UTCDateTime, cascade_key
from ..extensions import db

# Sign-up states. Only ``confirmed`` holds a seat; only ``waitlisted`` holds a ticket.
CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"  # by the member
REMOVED = "removed"  # by the host
SIGNUP_STATES = (CONFIRMED, WAITLISTED, CANCELLED, REMOVED)
ACTIVE_STATES = (CONFIRMED, WAITLISTED)

# Attendance, kept after the event: set by check-in, or ``no_show`` once it ended.
ATTENDED = "attended"
NO_SHOW = "no_show"

COVER_COLOURS = ("indigo", "teal", "amber", "rose", "violet", "slate", "emerald", "sky")


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
        CheckConstraint(
            "capacity IS NULL OR seats_taken <= capacity", name="seats_within_capacity"
        ),
        Index("ix_events_starts_at", "starts_at", "id"),
    )

    id: Mapped[PrimaryKey]
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Sponsorship is the merchant's own act: the host may only *ask* a merchant
    # (``sponsor_request_id``); ``sponsor_id`` is set when that merchant accepts (or
    # hosts the event as its sponsor) and is the only merchant the event's CPA bills.
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # accepted merchant
    sponsor_accepted_at: Mapped[datetime | None]
    sponsor_request_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sponsor_requested_at: Mapped[datetime | None]
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    description_html: Mapped[str] = mapped_column(Text, default="")  # sanitized
    location: Mapped[str] = mapped_column(String(300), default="")  # a place
    online_url: Mapped[str | None] = mapped_column(String(500))  # or a link, or both
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    signup_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until the start
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    seats_taken: Mapped[int] = mapped_column(default=0)
    waitlist_counter: Mapped[int] = mapped_column(default=0)
    # Bumped with every change of seats, so pages can drop out-of-order pushes.
    live_version: Mapped[int] = mapped_column(default=0)
    # iCalendar SEQUENCE: bumped when the host changes the time or place.
    sequence: Mapped[int] = mapped_column(default=0)
    cover_colour: Mapped[str] = mapped_column(String(16), default="indigo")
    cover_image: Mapped[str | None] = mapped_column(String(64))  # file name under uploads/events
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]
    updated_at: Mapped[StampedNow]

    host: Mapped[User] = relationship(foreign_keys=[host_id])
    sponsor: Mapped[User | None] = relationship(foreign_keys=[sponsor_id])
    sponsor_request: Mapped[User | None] = relationship(foreign_keys=[sponsor_request_id])

    @property
    def paying_sponsor_id(self) -> int | None:
        """The merchant who accepted the sponsorship (and so pays its CPA), else None."""
        if self.sponsor_id is None or self.sponsor_accepted_at is None:
            return None
        return self.sponsor_id

    @property
    def closes_at(self) -> datetime:
        """Sign-ups close at the deadline or the start, whichever comes first."""
        if self.signup_deadline is not None and self.signup_deadline < self.starts_at:
            return self.signup_deadline
        return self.starts_at

    @property
    def seats_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.seats_taken)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def has_started(self, at: datetime | None = None) -> bool:
        return (at or now()) >= self.starts_at

    def has_ended(self, at: datetime | None = None) -> bool:
        return (at or now()) >= self.ends_at

    def signups_open(self, at: datetime | None = None) -> bool:
        return not self.is_cancelled and (at or now()) < self.closes_at


class Signup(db.Model):
    __tablename__ = "event_signups"
    __table_args__ = (
        # One sign-up per member and event; cancelling keeps the row (and re-joining reuses it).
        UniqueConstraint("event_id", "user_id", name="uq_event_signups_event_user"),
        # Waitlist tickets are unique per event, so two members can never share a place.
        UniqueConstraint("event_id", "waitlist_ticket", name="uq_event_signups_event_ticket"),
        UniqueConstraint("event_id", "checkin_code", name="uq_event_signups_event_code"),
        CheckConstraint(
            "(status = 'waitlisted') = (waitlist_ticket IS NOT NULL)", name="ticket_iff_waitlisted"
        ),
        Index("ix_event_signups_user", "user_id", "status"),
        Index("ix_event_signups_event_status", "event_id", "status", "waitlist_ticket"),
    )

    id: Mapped[PrimaryKey]
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    waitlist_ticket: Mapped[int | None]
    # What the member shows at the door: short, upper-case letters and digits only
    # (QR alphanumeric mode, easy to read aloud), unique per event.
    checkin_code: Mapped[str] = mapped_column(String(16))
    checked_in_at: Mapped[datetime | None]
    checked_in_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    attendance: Mapped[str | None] = mapped_column(String(16))  # attended | no_show
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the once-only marker
    # The once-only marker of the reminder email, claimed before the message is sent.
    reminder_mailed_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATES


class SignupRequest(db.Model):
    """An ``Idempotency-Key`` already used by a member, with the answer it got."""

    __tablename__ = "event_signup_requests"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_event_signup_requests_user_key"),)

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    signup_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_signups.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16))
    position: Mapped[int | None]
    created_at: Mapped[StampedNow]


class EventMessage(db.Model):
    """A message from the host to every participant (plain text, escaped when shown)."""

    __tablename__ = "event_messages"

    id: Mapped[PrimaryKey]
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[StampedNow]

    author: Mapped[User] = relationship()


class CalendarFeed(db.Model):
    """A member's secret calendar address: calendar apps fetch it without a session.

    The token is a read-only capability for the member's own event list; it is kept
    so the settings page can show the address again, and resetting replaces it. It is
    made when the member first signs up (or asks for it); fetching it writes nothing.
    """

    __tablename__ = "event_calendar_feeds"

    user_id: Mapped[int] = cascade_key("users.id")
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[StampedNow]
    # No longer written (a GET writes nothing); kept until a migration drops it.
    last_fetched_at: Mapped[datetime | None]
