"""The day range every insight figure is asked for: ``?from=&to=`` as ISO dates, both
days included, read in UTC, at most ``MAX_DAYS`` days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from ...errors import ServiceError

MAX_DAYS = 366


def parse_days(
    raw_from,
    raw_to,
    *,
    today: date,
    default_start: Callable[[date], date],
    error: type[ServiceError],
    message: str,
) -> tuple[date, date]:
    """``(first, last)`` days asked for: ``to`` defaults to ``today``, ``from`` to
    ``default_start(last)`` (never after ``last``). Raises ``error`` (with per-field
    messages) for a malformed date, ``from`` after ``to`` or more than ``MAX_DAYS``."""
    fields: dict[str, list[str]] = {}
    parsed: dict[str, date | None] = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        parsed[name] = None
        if raw in (None, ""):
            continue
        try:
            parsed[name] = date.fromisoformat(str(raw))
        except ValueError:
            fields[name] = ["Use a date like 2026-03-01."]
    if fields:
        raise error(message, fields=fields)
    last = parsed["to"] or today
    first = parsed["from"] or min(default_start(last), last)
    if first > last:
        raise error(message, fields={"from": ["The start must not be after the end."]})
    if (last - first).days + 1 > MAX_DAYS:
        raise error(message, fields={"to": [f"Ask for at most {MAX_DAYS} days at a time."]})
    return first, last


def moment(day: date) -> datetime:
    """The first instant of ``day`` (UTC)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """``[start, end)`` instants of the days ``first`` to ``last``, both included."""
    return moment(first), moment(last + timedelta(days=1))
