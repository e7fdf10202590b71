"""Listing events: upcoming and past pages, and the month grid."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from ...clock import now
from ...errors import field_error
from ...extensions import db
from ...pagination import Page, decode, encode, keyset_page
from ..models import (
    Event,
)

# --- listing -----------------------------------------------------------------------


def list_events(when: str = "upcoming", *, cursor: str | None = None, limit: int = 20) -> Page:
    """Upcoming (not yet ended, soonest first) or past (latest first) events, keyset-paginated."""
    if when not in ("upcoming", "past"):
        raise field_error("when", "Use upcoming or past.")
    at = now()
    query = select(Event).options(joinedload(Event.host), joinedload(Event.sponsor))
    after = decode(cursor, 2)
    if when == "upcoming":
        query = query.where(Event.ends_at > at, Event.cancelled_at.is_(None))
        order = (Event.starts_at.asc(), Event.id.asc())
    else:
        query = query.where(Event.ends_at <= at)
        order = (Event.starts_at.desc(), Event.id.desc())
    if after is not None:
        try:
            moment, last_id = datetime.fromisoformat(after[0]), int(after[1])
        except (TypeError, ValueError):
            raise field_error("cursor", "That cursor is not valid.") from None
        if when == "upcoming":
            query = query.where(
                or_(Event.starts_at > moment, and_(Event.starts_at == moment, Event.id > last_id))
            )
        else:
            query = query.where(
                or_(Event.starts_at < moment, and_(Event.starts_at == moment, Event.id < last_id))
            )
    rows = list(db.session.scalars(query.order_by(*order).limit(limit + 1)).unique())
    return keyset_page(rows, limit, lambda event: encode([event.starts_at.isoformat(), event.id]))


def events_between(start: datetime, end: datetime) -> list[Event]:
    """Events overlapping [start, end), for the month view (cancelled ones included)."""
    return list(
        db.session.scalars(
            select(Event)
            .where(Event.starts_at < end, Event.ends_at > start)
            .order_by(Event.starts_at, Event.id)
        )
    )


def month_grid(year: int, month: int, zone) -> tuple[list[list[date]], dict[date, list[Event]]]:
    """Weeks (Monday first) covering the month and the events of each day, in ``zone``."""
    first = date(year, month, 1)
    grid_start = first - timedelta(days=first.weekday())
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last = next_month - timedelta(days=1)
    grid_end = last + timedelta(days=6 - last.weekday())
    weeks = []
    day = grid_start
    while day <= grid_end:
        weeks.append([day + timedelta(days=i) for i in range(7)])
        day += timedelta(days=7)
    start = datetime.combine(grid_start, datetime.min.time(), zone)
    end = datetime.combine(grid_end + timedelta(days=1), datetime.min.time(), zone)
    by_day: dict[date, list[Event]] = {}
    for event in events_between(start.astimezone(UTC), end.astimezone(UTC)):
        local_start = event.starts_at.astimezone(zone).date()
        local_end = (event.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
        day = max(local_start, grid_start)
        while day <= min(local_end, grid_end):
            by_day.setdefault(day, []).append(event)
            day += timedelta(days=1)
    return weeks, by_day
