"""The one source of "now" (UTC, aware), so tests can move time."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
