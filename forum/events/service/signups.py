"""Seats and the waitlist: signing up, cancelling, removal and promotion.

Concurrency rests on one rule: a transaction that
changes seats or the waitlist *starts* by updating the event row, and the seat and
ticket counters move only in SQL:

- taking a seat is ``UPDATE events SET seats_taken = seats_taken + 1 WHERE id = :id
  AND (capacity IS NULL OR seats_taken < capacity)``;
- when that matches nothing, a waitlist ticket is ``UPDATE events SET
  waitlist_counter = waitlist_counter + 1 WHERE id = :id AND seats_taken >= capacity
  RETURNING waitlist_counter`` (conditional again: if a seat was freed meanwhile the
  member takes it instead);
- freeing a seat (cancel, removal, more capacity) decrements ``seats_taken`` and
  promotes the lowest ticket in the same transaction, while holding the event row.

On PostgreSQL these statements serialize on the event row lock (a blocked UPDATE
re-checks its WHERE against the committed row); SQLite has one writer at a time.
A ticket is unique per event (constraint) and the counter never skips (a rolled
back increment is rolled back with its sign-up), and the position a member sees
is the rank of their ticket among those still waiting: 1..n without gaps.

A new sign-up sends ``signals.signup_made``, a cancelled or removed one
``signals.signup_released``, both inside the transaction (see ``forum.signals``).
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ... import idempotency, signals
from ...accounts.models import User
from ...clock import now
from ...database import update_row, update_where
from ...errors import Conflict, Forbidden, NotFound
from ...extensions import db
from ...idempotency import check_key as check_idempotency_key
from ...moderation import service as moderation
from ...notifications import service as notifications
from ..models import (
    ACTIVE_STATES,
    CANCELLED,
    CONFIRMED,
    REMOVED,
    WAITLISTED,
    Event,
    Signup,
    SignupRequest,
)
from .common import (
    CODE_ALPHABET,
    CODE_LENGTH,
    SEAT_ATTEMPTS,
    announce_seats,
    check_can_act,
    check_host,
    event_url,
    find_signup,
    lock_event,
    waitlist_position,
)
from .feeds import feed_for

# --- sign-ups ----------------------------------------------------------------------


@dataclass
class SignupResult:
    signup: Signup | None
    status: str
    position: int | None
    replayed: bool = False


def check_signups_open(event: Event) -> None:
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="signups_closed")
    if not event.signups_open():
        if event.has_started():
            raise Conflict("The event has started; sign-ups are closed.", code="signups_closed")
        raise Conflict("The sign-up deadline has passed.", code="signups_closed")


def _replay(user: User, key: str, event: Event) -> SignupResult | None:
    previous = idempotency.replay(
        db.session.scalar(
            select(SignupRequest).where(SignupRequest.user_id == user.id, SignupRequest.key == key)
        ),
        lambda first: first.event_id == event.id,
    )
    if previous is None:
        return None
    signup = db.session.get(Signup, previous.signup_id) if previous.signup_id else None
    return SignupResult(signup, previous.status, previous.position, replayed=True)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _take_seat(event: Event) -> bool:
    row = db.session.execute(
        update(Event)
        .where(
            Event.id == event.id, or_(Event.capacity.is_(None), Event.seats_taken < Event.capacity)
        )
        .values(seats_taken=Event.seats_taken + 1, live_version=Event.live_version + 1)
        .returning(Event.seats_taken)
        .execution_options(synchronize_session=False)
    ).first()
    return row is not None


def _take_ticket(event: Event) -> int | None:
    return db.session.execute(
        update(Event)
        .where(
            Event.id == event.id, Event.capacity.is_not(None), Event.seats_taken >= Event.capacity
        )
        .values(waitlist_counter=Event.waitlist_counter + 1, live_version=Event.live_version + 1)
        .returning(Event.waitlist_counter)
        .execution_options(synchronize_session=False)
    ).scalar()


def _move_signup(signup: Signup, from_status: str, /, **values) -> bool:
    """Set ``values`` on the sign-up only while it is still ``from_status``: True when this
    call moved it (a concurrent cancel, rejoin or promotion got there first otherwise)."""
    return update_where(Signup, Signup.id == signup.id, Signup.status == from_status, **values) == 1


def _place(event: Event) -> tuple[str, int | None]:
    """A seat if one is free, else the next waitlist ticket (see the module docstring)."""
    for _ in range(SEAT_ATTEMPTS):
        if _take_seat(event):
            return CONFIRMED, None
        ticket = _take_ticket(event)
        if ticket is not None:
            return WAITLISTED, ticket
    raise Conflict("Sign-ups are very busy right now; please try again.", code="busy")


def sign_up(user: User, event: Event, *, idempotency_key: str | None = None) -> SignupResult:
    """Sign ``user`` up: confirmed while seats remain, else waitlisted with a position.

    The same ``idempotency_key`` from the same user returns the first answer and
    creates nothing. Raises Conflict ``already_signed_up`` / ``signups_closed``,
    Forbidden ``removed_by_host`` / ``suspended``, ValidationFailed for a bad key.
    """
    key = check_idempotency_key(idempotency_key)
    if key:
        previous = _replay(user, key, event)
        if previous is not None:
            return previous
    check_can_act(user)
    check_signups_open(event)
    existing = find_signup(event, user)
    if existing is not None and existing.is_active:
        raise Conflict("You are already signed up for this event.", code="already_signed_up")
    if existing is not None and existing.status == REMOVED:
        raise Forbidden("The host removed you from this event.", code="removed_by_host")
    at = now()
    try:
        with db.session.begin_nested():
            request_row = None
            if key:
                # Inserted first: a concurrent request with the same key waits here on
                # PostgreSQL until the first commits, then fails and replays its answer.
                request_row = SignupRequest(
                    user_id=user.id, key=key, event_id=event.id, status="pending", created_at=at
                )
                db.session.add(request_row)
                db.session.flush()
            status, ticket = _place(event)
            if existing is not None:
                rejoined = _move_signup(
                    existing,
                    CANCELLED,
                    status=status,
                    waitlist_ticket=ticket,
                    created_at=at,
                    confirmed_at=at if status == CONFIRMED else None,
                    cancelled_at=None,
                    checked_in_at=None,
                    checked_in_by_id=None,
                    attendance=None,
                    reminded_at=None,
                    reminder_mailed_at=None,
                )
                if not rejoined:
                    raise Conflict(
                        "You are already signed up for this event.", code="already_signed_up"
                    )
                signup = existing
                db.session.refresh(signup)
            else:
                signup = Signup(
                    event_id=event.id,
                    user_id=user.id,
                    status=status,
                    waitlist_ticket=ticket,
                    checkin_code=_new_code(),
                    created_at=at,
                    confirmed_at=at if status == CONFIRMED else None,
                )
                db.session.add(signup)
                db.session.flush()
            position = waitlist_position(signup)
            if request_row is not None:
                request_row.signup_id = signup.id
                request_row.status = status
                request_row.position = position
                db.session.flush()
    except IntegrityError:
        # A concurrent request of the same member won: the same key, or a second sign-up.
        if key:
            previous = _replay(user, key, event)
            if previous is not None:
                return previous
        raise Conflict(
            "You are already signed up for this event.", code="already_signed_up"
        ) from None
    db.session.refresh(event)
    feed_for(user)  # the "my events" page shows the feed address without writing
    signals.signup_made.send(signup, event=event, user=user)
    announce_seats(event)
    return SignupResult(signup, status, position)


def cancel_signup(user: User, event: Event) -> Signup | None:
    """Cancel ``user``'s sign-up; a freed seat goes to the first waitlisted member at once.

    Returns the promoted sign-up, if any. Raises NotFound ``not_signed_up``, Conflict
    ``event_started``.
    """
    signup = find_signup(event, user)
    if signup is None or not signup.is_active:
        raise NotFound("You are not signed up for this event.", code="not_signed_up")
    if event.has_started():
        raise Conflict(
            "The event has started; the sign-up can no longer be cancelled.", code="event_started"
        )
    promoted = _release(event, signup, CANCELLED)
    announce_seats(event)
    return promoted[0] if promoted else None


def remove_participant(actor: User, event: Event, user_id: int, reason: str = "") -> Signup | None:
    """The host (or a moderator) takes a member off the event (seat or waitlist); they
    cannot rejoin. A reason is required (ValidationFailed before anything changes): the
    member is sent it and the audit log keeps it, linking the event and the member."""
    check_host(actor, event)
    reason = moderation.check_reason(reason)
    signup = db.session.scalar(
        select(Signup).where(Signup.event_id == event.id, Signup.user_id == user_id)
    )
    if signup is None or not signup.is_active:
        raise NotFound("That member is not signed up.", code="not_signed_up")
    if event.has_ended():
        raise Conflict("The event is over.", code="event_ended")
    promoted = _release(event, signup, REMOVED)
    who = "The host" if actor.id == event.host_id else "A moderator"
    notifications.notify(
        signup.user_id,
        "event_removed",
        f"{who} removed you from “{event.title}”: {reason}",
        event_url(event),
        actor_id=actor.id,
    )
    moderation.record(
        actor,
        "event.remove_participant",
        "event",
        event.id,
        reason=reason,
        subject_id=signup.user_id,
    )
    announce_seats(event)
    return promoted[0] if promoted else None


def _release(event: Event, signup: Signup, new_status: str) -> list[Signup]:
    """Move an active sign-up to ``new_status``; a freed seat promotes in the same transaction."""
    lock_event(event)
    # Read the sign-up again under the lock: it may have been promoted (or cancelled)
    # by another transaction since it was loaded.
    db.session.refresh(signup)
    old_status = signup.status
    if old_status not in ACTIVE_STATES:
        raise NotFound("That sign-up was already cancelled.", code="not_signed_up")
    if not _move_signup(
        signup, old_status, status=new_status, waitlist_ticket=None, cancelled_at=now()
    ):
        raise NotFound("That sign-up was already cancelled.", code="not_signed_up")
    if old_status == CONFIRMED:
        update_row(event, seats_taken=Event.seats_taken - 1)
    db.session.refresh(signup)
    db.session.refresh(event)
    signals.signup_released.send(signup, event=event, status=new_status)
    return promote_waitlisted(event) if old_status == CONFIRMED else []


def promote_waitlisted(event: Event) -> list[Signup]:
    """Give free seats to the lowest tickets, each told live and in the bell.

    The caller holds the event row (``lock_event`` or a seat update), so no other
    transaction is adding to or taking from this waitlist meanwhile.
    """
    promoted = []
    while True:
        first = db.session.scalar(
            select(Signup)
            .where(Signup.event_id == event.id, Signup.status == WAITLISTED)
            .order_by(Signup.waitlist_ticket)
            .limit(1)
        )
        if first is None or not _take_seat(event):
            break
        at = now()
        moved = _move_signup(
            first, WAITLISTED, status=CONFIRMED, waitlist_ticket=None, confirmed_at=at
        )
        if not moved:  # cannot happen while we hold the event row; never hand out a phantom seat
            raise Conflict("Sign-ups changed meanwhile; please try again.", code="busy")
        db.session.refresh(first)
        promoted.append(first)
        notifications.notify(
            first.user_id,
            "event_promoted",
            f"A seat opened up: you're confirmed for “{event.title}”!",
            event_url(event),
        )
    db.session.refresh(event)
    return promoted
