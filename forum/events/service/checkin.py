"""The host's door: who is coming, check-in by code, and attendance."""

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ... import realtime, signals
from ...accounts.models import User
from ...clock import now
from ...database import update_where
from ...errors import Conflict, NotFound, field_error
from ...extensions import db
from ..models import (
    ATTENDED,
    CANCELLED,
    CONFIRMED,
    NO_SHOW,
    REMOVED,
    WAITLISTED,
    Event,
    Signup,
)
from .common import (
    CHECKIN_CLOSES_AFTER,
    CHECKIN_OPENS_BEFORE,
    check_host,
)

# --- host tools --------------------------------------------------------------------


@dataclass
class Participant:
    signup: Signup
    position: int | None

    @property
    def attendance(self) -> str | None:
        return attendance_of(self.signup)


def attendance_of(signup: Signup) -> str | None:
    """``attended`` / ``no_show`` once known; a confirmed member who never checked in
    counts as a no-show as soon as the event is over, whether or not the job ran."""
    if signup.attendance:
        return signup.attendance
    if signup.status == CONFIRMED and signup.event.has_ended():
        return ATTENDED if signup.checked_in_at else NO_SHOW
    return None


def participants(actor: User, event: Event) -> list[Participant]:
    """Every sign-up with its waitlist rank: confirmed, then waitlist order, then the rest."""
    check_host(actor, event)
    rank = func.row_number().over(partition_by=Signup.status, order_by=Signup.waitlist_ticket)
    rows = db.session.execute(
        select(Signup, rank).options(joinedload(Signup.user)).where(Signup.event_id == event.id)
    ).all()
    order = {CONFIRMED: 0, WAITLISTED: 1, CANCELLED: 2, REMOVED: 3}
    result = [
        Participant(signup, position if signup.status == WAITLISTED else None)
        for signup, position in rows
    ]
    result.sort(
        key=lambda p: (order[p.signup.status], p.position or 0, p.signup.user.username.lower())
    )
    return result


def normalize_code(code) -> str:
    return re.sub(r"[^A-Z0-9]", "", code.upper()) if isinstance(code, str) else ""


def check_in(actor: User, event: Event, code) -> Signup:
    """Check a confirmed participant in at the door by their code (host only).

    Raises Forbidden ``not_host``, Conflict ``checkin_not_open`` / ``not_confirmed`` /
    ``already_checked_in``, NotFound ``unknown_code``, ValidationFailed for an empty code.
    """
    check_host(actor, event)
    clean = normalize_code(code)
    if not clean:
        raise field_error("code", "Enter the participant's check-in code.")
    at = now()
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="event_cancelled")
    if at < event.starts_at - CHECKIN_OPENS_BEFORE:
        raise Conflict("Check-in opens 3 hours before the start.", code="checkin_not_open")
    if at > event.ends_at + CHECKIN_CLOSES_AFTER:
        raise Conflict("Check-in closed a day after the event.", code="checkin_closed")
    signup = db.session.scalar(
        select(Signup).where(Signup.event_id == event.id, Signup.checkin_code == clean)
    )
    if signup is None:
        raise NotFound(
            "No participant has that code.", code="unknown_code", fields={"code": ["Unknown code."]}
        )
    if signup.status != CONFIRMED:
        raise Conflict(
            f"{signup.user.username} is not a confirmed participant ({signup.status}).",
            code="not_confirmed",
        )
    moved = update_where(
        Signup,
        Signup.id == signup.id,
        Signup.checked_in_at.is_(None),
        checked_in_at=at,
        checked_in_by_id=actor.id,
        attendance=ATTENDED,
    )
    db.session.refresh(signup)
    if moved != 1:
        raise Conflict(f"{signup.user.username} is already checked in.", code="already_checked_in")
    signals.signup_checked_in.send(signup, event=event, checked_in=True)
    realtime.announce(
        "event_checkin",
        {"event_id": event.id, "signup_id": signup.id, "checked_in": True},
        room=f"event:{event.id}:door",
    )
    return signup


def undo_check_in(actor: User, event: Event, signup_id: int) -> Signup:
    check_host(actor, event)
    signup = db.session.get(Signup, signup_id) if isinstance(signup_id, int) else None
    if signup is None or signup.event_id != event.id:
        raise NotFound("No such participant.")
    if signup.checked_in_at is None:
        raise Conflict("Not checked in.", code="not_checked_in")
    signup.checked_in_at = None
    signup.checked_in_by_id = None
    signup.attendance = NO_SHOW if event.has_ended() else None
    db.session.flush()
    signals.signup_checked_in.send(signup, event=event, checked_in=False)
    return signup
