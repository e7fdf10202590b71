"""Limits, permission checks and the reads and locks every part of events shares."""

from datetime import timedelta

from flask import url_for
from sqlalchemy import func, select

from ... import realtime
from ...database import update_row
from ...errors import Forbidden
from ...extensions import db
from ...idempotency import KEY_MAX as IDEMPOTENCY_KEY_MAX  # noqa: F401  (the service's API)
from ...permissions import check_not_suspended as check_can_act  # noqa: F401  (used by the feature)
from ..models import (
    ACTIVE_STATES,
    WAITLISTED,
    Event,
    Signup,
)

TITLE_MIN, TITLE_MAX = 3, 200
DESCRIPTION_MAX = 20_000
LOCATION_MAX = 300
URL_MAX = 500
CAPACITY_MAX = 100_000
LONGEST_EVENT = timedelta(days=31)
MESSAGE_MAX = 2_000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud
CODE_LENGTH = 8
# The door opens a while before the start and stays open a while after the end, so
# late arrivals and after-the-fact corrections can still be recorded.
CHECKIN_OPENS_BEFORE = timedelta(hours=3)
CHECKIN_CLOSES_AFTER = timedelta(hours=24)
SEAT_ATTEMPTS = 5


# --- checks ------------------------------------------------------------------------


def is_host(user, event: Event) -> bool:
    """The host, or a moderator acting for the community."""
    if not user or not getattr(user, "is_authenticated", False):
        return False
    return user.id == event.host_id or user.is_moderator


def check_host(user, event: Event) -> None:
    if not is_host(user, event):
        raise Forbidden("Only the host can do that.", code="not_host")


def event_url(event: Event) -> str:
    return url_for("events.detail", event_id=event.id)


def when_text(event: Event) -> str:
    return event.starts_at.strftime("%b %d, %Y %H:%M UTC")


def waitlist_counts(event_ids: list[int]) -> dict[int, int]:
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(Signup.event_id, func.count())
        .where(Signup.event_id.in_(event_ids), Signup.status == WAITLISTED)
        .group_by(Signup.event_id)
    )
    return {event_id: count for event_id, count in rows}


def waitlist_count(event: Event) -> int:
    return waitlist_counts([event.id]).get(event.id, 0)


def find_signup(event: Event, user) -> Signup | None:
    if not user or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Signup).where(Signup.event_id == event.id, Signup.user_id == user.id)
    )


def waitlist_position(signup: Signup) -> int | None:
    """Rank among the tickets still waiting (1 = next to be promoted)."""
    if signup.status != WAITLISTED or signup.waitlist_ticket is None:
        return None
    return db.session.scalar(
        select(func.count()).where(
            Signup.event_id == signup.event_id,
            Signup.status == WAITLISTED,
            Signup.waitlist_ticket <= signup.waitlist_ticket,
        )
    )


def lock_event(event: Event) -> None:
    """Take the event row first (PostgreSQL row lock; SQLite's write lock): every
    change of seats or waitlist starts here, so they happen one at a time per event."""
    update_row(event, live_version=Event.live_version + 1)


def participant_ids(event: Event) -> list[int]:
    return list(
        db.session.scalars(
            select(Signup.user_id)
            .where(Signup.event_id == event.id, Signup.status.in_(ACTIVE_STATES))
            .order_by(Signup.id)
        )
    )


def seats_payload(event: Event) -> dict:
    return {
        "event_id": event.id,
        "capacity": event.capacity,
        "seats_taken": event.seats_taken,
        "seats_left": event.seats_left,
        "waitlist_count": waitlist_count(event),
        "signups_open": event.signups_open(),
        "cancelled": event.is_cancelled,
        "version": event.live_version,
    }


def announce_seats(event: Event) -> None:
    db.session.flush()
    db.session.refresh(event)
    realtime.announce("event_seats", seats_payload(event), room=f"event:{event.id}")
