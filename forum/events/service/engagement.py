"""Who signs up for what, and what is coming, as SELECTs for recommendations (insight
trains on them) and health (attendance), so nobody outside events names its tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from ..models import ACTIVE_STATES, ATTENDED, Event, Signup


def signups_sql(before: datetime | None = None) -> Select:
    """``SELECT user_id, event_id, at``: each live sign-up (confirmed, waitlisted) or
    attended event of a member, made before ``before``."""
    query = select(
        Signup.user_id.label("user_id"),
        Signup.event_id.label("event_id"),
        Signup.created_at.label("at"),
    ).where(Signup.status.in_(ACTIVE_STATES) | (Signup.attendance == ATTENDED))
    if before is not None:
        query = query.where(Signup.created_at < before)
    return query


def upcoming_events_sql(at: datetime) -> Select:
    """``SELECT event_id, title`` of events not cancelled whose sign-ups
    are still open at ``at`` (not started; the deadline, if any, ahead) and not full."""
    return select(Event.id.label("event_id"), Event.title.label("title")).where(
        Event.cancelled_at.is_(None),
        Event.starts_at > at,
        (Event.signup_deadline.is_(None)) | (Event.signup_deadline > at),
        (Event.capacity.is_(None)) | (Event.seats_taken < Event.capacity),
    )


def event_titles_sql() -> Select:
    """``SELECT event_id, title`` of every event (for "members going to ... signed up")."""
    return select(Event.id.label("event_id"), Event.title.label("title"))


def attendance_sql(start: datetime, end: datetime) -> Select:
    """``SELECT event_id, title, starts_at, status, attendance, checked_in_at``: one row per
    sign-up of an event that started in [start, end) and was not cancelled, to aggregate
    (attendance: "attended", "no_show" or NULL while not marked)."""
    return (
        select(
            Event.id.label("event_id"),
            Event.title.label("title"),
            Event.starts_at.label("starts_at"),
            Signup.status.label("status"),
            Signup.attendance.label("attendance"),
            Signup.checked_in_at.label("checked_in_at"),
        )
        .join(Signup, Signup.event_id == Event.id)
        .where(Event.cancelled_at.is_(None), Event.starts_at >= start, Event.starts_at < end)
    )
