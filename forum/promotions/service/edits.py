"""A merchant's change to an offer that has not started (a Dutch auction before its start,
a guessing game before its first guess): the same checks as creating it, then one
conditional UPDATE that holds only while the offer is still unstarted.

The offer's own guards (an auction's take, a game's guess) lock the same row, so an edit
racing the start either lands first (whoever comes next reads the new terms) or finds
the offer started and is refused with Conflict ``started``: never both.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ...clock import now
from ...errors import Conflict, ValidationFailed
from ...extensions import db
from .common import check_fields, check_offer_owner
from .reminders import reschedule


def _started(noun: str) -> Conflict:
    return Conflict(f"This {noun} has started: it can no longer be changed.", code="started")


def editable(offer, unstarted: Callable[[datetime], Any]) -> bool:
    """Whether ``offer`` may be edited now (a read: the edit itself decides again)."""
    model = type(offer)
    found = db.session.scalar(select(model.id).where(model.id == offer.id, unstarted(now())))
    return found is not None


def edit_offer(
    actor,
    offer,
    changes: dict,
    *,
    kind: str,
    noun: str,
    terms: tuple[str, ...],
    unstarted: Callable[[datetime], Any],
    check: Callable[[datetime, dict, dict], dict],
    announce: Callable[[Any], None],
):
    """Apply ``changes`` (a subset of ``terms``; the rest keep their values) to ``offer``.

    ``unstarted(at)`` is the SQL condition of an offer still open to edits;
    ``check(at, errors, merged)`` returns the checked columns from every term (create's
    checks), putting problems in ``errors``. Raises Forbidden (not its shop or an admin),
    Conflict ``started``, ValidationFailed (an unknown or bad term); nothing is written
    then. Done: the row refreshed, its reminders moved, its widget announced.
    """
    check_offer_owner(actor, offer.merchant_id)
    unknown = sorted(set(changes) - set(terms))
    if unknown:
        raise ValidationFailed(fields={name: ["This cannot be changed."] for name in unknown})
    if not editable(offer, unstarted):
        raise _started(noun)
    model = type(offer)
    at = now()
    errors: dict[str, list[str]] = {}
    values = check(at, errors, {name: changes.get(name, getattr(offer, name)) for name in terms})
    check_fields(errors)
    changed = db.session.execute(
        update(model)
        .where(model.id == offer.id, unstarted(at))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:  # a take or a guess committed while we checked
        raise _started(noun)
    db.session.refresh(offer)
    reschedule(kind, offer)
    announce(offer)
    return offer
