"""A snap-up's "sold out until" marker: most attempts of a rush come after the last unit
went, and are answered from the page cache backend (Redis when ``PAGE_CACHE_REDIS_URL``
is set) instead of reading stock, allowance and lapsed orders from the database.

The marker says: ``stock_left`` was 0 and nothing can come back before ``until`` (the
earliest payment deadline among the snap-up's pending orders, or its end). Units come
back earlier only through ``give_back`` (a cancel or refund), which calls ``forget`` (as
``end_snap`` does: a marker answers before the snap-up is loaded, so it would not say ended):
after that transaction commits the marker is deleted and the snap-up's generation
moves. A marker is believed only while its generation is the current one, so a reader
that saw the stock at 0 just before a give-back committed cannot leave a stale marker
behind (it read the generation before the stock, and the give-back moves it after
its commit). Without a shared cache (NullCache in production without Redis) there is
no marker and every attempt reads the database; a cache error reads as "no marker".
"""

import math
from datetime import datetime

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ...extensions import db
from ...pagecache import cache

_RETURNED = "promotions_snap_returned"


def _keys(snap_id: int) -> tuple[str, str]:
    return f"snap-sold-out:{snap_id}", f"snap-returns:{snap_id}"


def sold_out(snap_id: int, at: datetime) -> tuple[bool, int | None]:
    """(whether a current marker says sold out at ``at``, the generation seen: pass it to
    ``mark``; None when there is no cache to mark in)."""
    try:
        marker, generation = cache.get_many(*_keys(snap_id))
    except Exception:  # noqa: BLE001  (no cache: ask the database)
        return False, None
    seen = int(generation or 0)
    fresh = isinstance(marker, dict) and marker.get("generation") == seen
    return bool(fresh and at.timestamp() < marker["until"]), seen


def mark(snap_id: int, generation: int | None, until: datetime, at: datetime) -> None:
    """Remember that ``snap_id`` is sold out until ``until``, as of ``generation`` (what
    ``sold_out`` returned before the stock was read)."""
    seconds = (until - at).total_seconds()
    if generation is None or seconds <= 0:
        return
    try:
        cache.set(
            _keys(snap_id)[0],
            {"until": until.timestamp(), "generation": generation},
            timeout=math.ceil(seconds),
        )
    except Exception:  # noqa: BLE001  (unmarked: the next attempt reads the database)
        current_app.logger.warning("snap-ups: could not store a sold-out marker")


def forget(snap_id: int) -> None:
    """Units of ``snap_id`` came back in this transaction, or it ended: forget its marker
    on commit."""
    db.session.info.setdefault(_RETURNED, set()).add(snap_id)


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    for snap_id in session.info.pop(_RETURNED, ()):
        marker, generation = _keys(snap_id)
        try:
            cache.cache.inc(generation)  # Redis: INCR, seen by every worker
            cache.delete(marker)
        except Exception:  # noqa: BLE001  (the marker still lapses at its deadline)
            current_app.logger.warning("snap-ups: could not forget a sold-out marker")


@event.listens_for(Session, "after_rollback")
def _keep_on_rollback(session: Session) -> None:
    session.info.pop(_RETURNED, None)
