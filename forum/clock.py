"""The one source of "now" (UTC, aware), so tests and the demo can move time."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_replayed: ContextVar[datetime | None] = ContextVar("plaza_replayed_now", default=None)


def now() -> datetime:
    return _replayed.get() or datetime.now(UTC)


@contextmanager
def replaying(moment: datetime) -> Iterator[datetime]:
    """Run the block as if it were ``moment`` (the demo replays a month of shop history).

    Only code that asks ``now()`` sees it; the database's own clock is never used for stamps.
    """
    if moment.tzinfo is None:
        raise ValueError("replaying() needs an aware datetime")
    token = _replayed.set(moment)
    try:
        yield moment
    finally:
        _replayed.reset(token)
