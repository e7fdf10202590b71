"""Event rules: creating events, sign-ups with capacity and a waitlist, check-in,
host tools, reminders and attendance.

Every write goes through here. Concurrency rests on one rule: a transaction that
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
"""

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app, url_for
from flask_mailman import EmailMessage
from markupsafe import Markup
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import embeds, markup, ratelimit, realtime, signals
from ..accounts.models import User
from ..clock import now
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ..extensions import db
from ..notifications import service as notifications
from ..pagination import decode, encode
from .models import (
    ACTIVE_STATES,
    ATTENDED,
    CANCELLED,
    CONFIRMED,
    COVER_COLOURS,
    NO_SHOW,
    REMOVED,
    WAITLISTED,
    CalendarFeed,
    Event,
    EventMessage,
    Signup,
    SignupRequest,
)

log = logging.getLogger(__name__)

TITLE_MIN, TITLE_MAX = 3, 200
DESCRIPTION_MAX = 20_000
LOCATION_MAX = 300
URL_MAX = 500
CAPACITY_MAX = 100_000
LONGEST_EVENT = timedelta(days=31)
MESSAGE_MAX = 2_000
IDEMPOTENCY_KEY_MAX = 200
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


def check_can_act(user: User) -> None:
    if user.is_suspended:
        raise Forbidden("Your account is suspended.", code="suspended")


def parse_time(field: str, value, *, required: bool = True) -> datetime | None:
    """An aware UTC datetime from a datetime or an ISO 8601 string with an offset."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise field_error(field, "This time is required.")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise field_error(
                field, "Use an ISO 8601 time with an offset, e.g. 2030-06-01T18:00:00+02:00."
            ) from None
    if not isinstance(value, datetime):
        raise field_error(field, "Use an ISO 8601 time with an offset.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise field_error(
            field, "Include a UTC offset (e.g. +02:00 or Z) so the time is not ambiguous."
        )
    # Whole seconds: what iCalendar can carry, so every export says exactly what we store.
    return value.astimezone(UTC).replace(microsecond=0)


def _text(value, default: str = "") -> str:
    return value.strip() if isinstance(value, str) else default


def check_event_fields(values: dict, *, current: Event | None = None) -> dict:
    """Validate the fields of a new event, or the changed fields of ``current``.

    Returns the cleaned values (times aware UTC). Raises ValidationFailed with every
    problem at once, keyed by field name. Nothing is written.
    """
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    at = now()

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    def has(name: str) -> bool:
        return current is None or name in values

    if has("title"):
        title = _text(values.get("title"))
        if not TITLE_MIN <= len(title) <= TITLE_MAX:
            fail("title", f"Use {TITLE_MIN}-{TITLE_MAX} characters.")
        clean["title"] = title
    if has("description"):
        description = values.get("description") or ""
        if not isinstance(description, str):
            fail("description", "Write the description as text.")
        elif len(description) > DESCRIPTION_MAX:
            fail("description", f"Keep it under {DESCRIPTION_MAX:,} characters.")
        else:
            clean["description"] = description
    if has("location"):
        location = _text(values.get("location"))
        if len(location) > LOCATION_MAX:
            fail("location", f"Keep it under {LOCATION_MAX} characters.")
        clean["location"] = location
    if has("online_url"):
        link = _text(values.get("online_url")) or None
        if link is not None:
            if len(link) > URL_MAX:
                fail("online_url", f"Keep the link under {URL_MAX} characters.")
            elif (
                not link.lower().startswith(("http://", "https://"))
                or markup.safe_url(link) is None
            ):
                fail("online_url", "Use an http:// or https:// link.")
        clean["online_url"] = link
    for name in ("starts_at", "ends_at", "signup_deadline"):
        if has(name):
            try:
                clean[name] = parse_time(name, values.get(name), required=name != "signup_deadline")
            except ValidationFailed as err:
                for field, messages in err.fields.items():
                    errors.setdefault(field, []).extend(messages)
    if has("capacity"):
        capacity = values.get("capacity")
        if isinstance(capacity, str) and capacity.strip().lstrip("-").isdigit():
            capacity = int(capacity.strip())
        if capacity in (None, ""):
            clean["capacity"] = None
        elif isinstance(capacity, bool) or not isinstance(capacity, int):
            fail("capacity", "Use a whole number of seats, or leave it empty for unlimited.")
        elif capacity < 0:
            fail("capacity", "Capacity can't be negative.")
        elif capacity == 0:
            fail("capacity", "Capacity must be at least 1 (leave it empty for unlimited).")
        elif capacity > CAPACITY_MAX:
            fail("capacity", f"Use at most {CAPACITY_MAX:,} seats.")
        elif current is not None and capacity < current.seats_taken:
            fail(
                "capacity",
                f"{current.seats_taken} members are already confirmed; capacity can't go below that.",
            )
        else:
            clean["capacity"] = capacity
    if has("cover_colour"):
        colour = _text(values.get("cover_colour")) or "indigo"
        if colour not in COVER_COLOURS:
            fail("cover_colour", f"Choose one of {', '.join(COVER_COLOURS)}.")
        clean["cover_colour"] = colour
    if has("sponsor_id"):
        # A request to that merchant, not a sponsorship (see request_sponsor).
        sponsor_id = values.get("sponsor_id")
        if sponsor_id in (None, "", 0):
            clean["sponsor_id"] = None
        else:
            sponsor = (
                db.session.get(User, sponsor_id)
                if isinstance(sponsor_id, int) and not isinstance(sponsor_id, bool)
                else None
            )
            if sponsor is None or not sponsor.has_role("merchant"):
                fail("sponsor_id", "The sponsor must be a merchant.")
            else:
                clean["sponsor_id"] = sponsor.id

    # Rules across fields, with the event's current values for what did not change.
    def value(name):
        if name in clean:
            return clean[name]
        return getattr(current, name) if current is not None else None

    starts, ends, deadline = value("starts_at"), value("ends_at"), value("signup_deadline")
    start_changed = "starts_at" in clean and (
        current is None or clean["starts_at"] != current.starts_at
    )
    if starts is not None and start_changed and starts <= at:
        fail("starts_at", "The start must be in the future.")
    if starts is not None and ends is not None:
        if ends <= starts:
            fail("ends_at", "The end must be after the start.")
        elif ends - starts > LONGEST_EVENT:
            fail("ends_at", "An event can last at most 31 days.")
    if deadline is not None and starts is not None:
        deadline_changed = "signup_deadline" in clean and (
            current is None or deadline != current.signup_deadline
        )
        if deadline > starts:
            fail("signup_deadline", "The sign-up deadline must be no later than the start.")
        elif deadline_changed and deadline <= at:
            fail("signup_deadline", "The sign-up deadline must be in the future.")
    if (
        ("location" in clean or "online_url" in clean)
        and not value("location")
        and not value("online_url")
    ):
        fail("location", "Give a place, an online link, or both.")
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    return clean


# --- events ------------------------------------------------------------------------


def get_event(event_id, viewer=None) -> Event:
    event = db.session.get(Event, event_id) if isinstance(event_id, int) else None
    if event is None:
        raise NotFound("No such event.")
    return event


def create_event(host: User, *, discussion_category: str | None = None, **values) -> Event:
    """Create an event hosted by ``host``.

    With ``discussion_category`` (a category slug) a discussion thread is opened there
    through the board's service, its first post embedding the event card.
    Raises ValidationFailed (bad fields), Forbidden (suspended), RateLimited.
    """
    check_can_act(host)
    clean = check_event_fields(values)
    category = None
    if discussion_category:
        from ..board import service as board

        try:
            category = board.get_category(discussion_category)
        except NotFound:
            raise field_error("discussion_category", "No such category.") from None
    ratelimit.consume(
        current_app.config["POST_LIMIT"],
        "event",
        host.id,
        message="You are creating events too fast.",
    )
    at = now()
    event = Event(
        host_id=host.id,
        title=clean["title"],
        description=clean.get("description", ""),
        description_html=markup.render(clean.get("description", "")).html,
        location=clean.get("location", ""),
        online_url=clean.get("online_url"),
        starts_at=clean["starts_at"],
        ends_at=clean["ends_at"],
        signup_deadline=clean.get("signup_deadline"),
        capacity=clean.get("capacity"),
        cover_colour=clean.get("cover_colour", "indigo"),
        seats_taken=0,
        waitlist_counter=0,
        live_version=0,
        sequence=0,
        created_at=at,
        updated_at=at,
    )
    db.session.add(event)
    db.session.flush()
    if clean.get("sponsor_id"):
        request_sponsor(host, event, clean["sponsor_id"])
    if category is not None:
        from ..board import service as board

        body = f"[[event:{event.id}]]\n\n{event.description}".strip()
        thread = board.create_thread(host, category, event.title, body)
        event.thread_id = thread.id
        db.session.flush()
    return event


def update_event(actor: User, event: Event, **values) -> Event:
    """Change an event (host or moderator) before it starts.

    More capacity promotes waitlisted members at once; a new time or place bumps
    the iCalendar SEQUENCE and tells every participant.
    """
    check_host(actor, event)
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="event_cancelled")
    if event.has_started():
        raise Conflict("The event has started; it can no longer be changed.", code="event_started")
    _lock_event(event)
    db.session.refresh(event)
    clean = check_event_fields(values, current=event)
    moved = any(
        name in clean and clean[name] != getattr(event, name)
        for name in ("starts_at", "ends_at", "location", "online_url")
    )
    if "sponsor_id" in clean:
        request_sponsor(actor, event, clean.pop("sponsor_id"))
    for name, new in clean.items():
        setattr(event, name, new)
    if "description" in clean:
        event.description_html = markup.render(event.description).html
    event.updated_at = now()
    if moved:
        event.sequence = (event.sequence or 0) + 1
    db.session.flush()
    promoted = _promote_waitlisted(event)
    if moved:
        for user_id in _participant_ids(event):
            notifications.notify(
                user_id,
                "event_changed",
                f"“{event.title}” changed: now {_when(event)}",
                event_url(event),
                actor_id=actor.id,
            )
    _announce_seats(event)
    log.debug("event %s updated, %s promoted", event.id, len(promoted))
    return event


def cancel_event(actor: User, event: Event) -> None:
    """Call the event off (host or moderator); participants are told, sign-ups stay on record."""
    check_host(actor, event)
    if event.is_cancelled:
        raise Conflict("This event was already cancelled.", code="event_cancelled")
    if event.has_ended():
        raise Conflict("The event is over.", code="event_ended")
    _lock_event(event)
    event.cancelled_at = now()
    event.sequence = (event.sequence or 0) + 1
    db.session.flush()
    for user_id in _participant_ids(event):
        notifications.notify(
            user_id,
            "event_cancelled",
            f"“{event.title}” was cancelled by the host.",
            event_url(event),
            actor_id=actor.id,
        )
    _announce_seats(event)


# --- sponsorship ---------------------------------------------------------------------
#
# Nothing may create a cost for a merchant except that merchant. The host names a
# merchant as a *request*; the event pays CPA (to the posts that bring sign-ups)
# only once that merchant accepts, and only to that merchant (Event.paying_sponsor_id,
# which attribution reads through its offer registry).


def request_sponsor(actor: User, event: Event, merchant_id: int | None) -> None:
    """The host asks ``merchant_id`` to sponsor ``event`` (None: no sponsor, and no request).

    A merchant naming itself is its own act and sponsors at once. Asking the
    merchant already sponsoring, or already asked, changes nothing. A new request
    leaves the current sponsor in place until the new merchant accepts.
    """
    at = now()
    if merchant_id is None:
        event.sponsor_id = event.sponsor_accepted_at = None
        event.sponsor_request_id = event.sponsor_requested_at = None
        return
    if merchant_id in (event.paying_sponsor_id, event.sponsor_request_id):
        return
    if merchant_id == actor.id and actor.has_role("merchant"):
        _accept(event, merchant_id, at)
        return
    event.sponsor_request_id, event.sponsor_requested_at = merchant_id, at
    db.session.flush()
    notifications.notify(
        merchant_id,
        "sponsorship_requested",
        f"{actor.username} asks you to sponsor “{event.title}”.",
        url_for("events.sponsorships"),
        actor_id=actor.id,
    )


def _accept(event: Event, merchant_id: int, at: datetime) -> None:
    event.sponsor_id, event.sponsor_accepted_at = merchant_id, at
    event.sponsor_request_id = event.sponsor_requested_at = None
    event.updated_at = at
    db.session.flush()


def _check_sponsor_action(actor, event: Event) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden("Log in as the merchant asked to sponsor this event.")
    check_can_act(actor)
    if event.sponsor_request_id != actor.id:
        raise Conflict(
            "You have no sponsorship request for this event.", code="no_sponsorship_request"
        )
    if not actor.has_role("merchant"):
        raise Forbidden("Only merchants sponsor events.")


def accept_sponsorship(actor: User, event: Event) -> Event:
    """The merchant asked accepts: from now on the event's sign-ups bill it (its CPA).

    Raises Conflict ``no_sponsorship_request`` unless ``actor`` was asked, and
    ``event_cancelled`` / ``event_ended`` for an event that can take no sign-ups.
    """
    _check_sponsor_action(actor, event)
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="event_cancelled")
    if event.has_ended():
        raise Conflict("The event is over.", code="event_ended")
    _accept(event, actor.id, now())
    notifications.notify(
        event.host_id,
        "sponsorship_accepted",
        f"{actor.username} now sponsors “{event.title}”.",
        event_url(event),
        actor_id=actor.id,
    )
    return event


def decline_sponsorship(actor: User, event: Event) -> Event:
    """The merchant asked says no; nothing is billed and the request is gone."""
    _check_sponsor_action(actor, event)
    event.sponsor_request_id = event.sponsor_requested_at = None
    db.session.flush()
    return event


def end_sponsorship(actor: User, event: Event) -> Event:
    """The sponsor (or the host, or a moderator) ends the sponsorship; later sign-ups bill nobody.

    Raises Conflict ``not_sponsored`` when no merchant sponsors the event, Forbidden
    for anyone else.
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Forbidden("Log in first.")
    if event.paying_sponsor_id is None:
        raise Conflict("No merchant sponsors this event.", code="not_sponsored")
    if actor.id != event.sponsor_id:
        check_host(actor, event)
    event.sponsor_id = event.sponsor_accepted_at = None
    event.updated_at = now()
    db.session.flush()
    return event


def sponsorships_of(merchant: User) -> dict[str, list[Event]]:
    """The merchant's open requests (``requests``) and the events it sponsors (``sponsoring``)."""
    at = now()
    base = select(Event).options(joinedload(Event.host)).where(Event.ends_at > at)
    requests = db.session.scalars(
        base.where(Event.sponsor_request_id == merchant.id, Event.cancelled_at.is_(None)).order_by(
            Event.sponsor_requested_at, Event.id
        )
    ).all()
    sponsoring = db.session.scalars(
        base.where(
            Event.sponsor_id == merchant.id, Event.sponsor_accepted_at.is_not(None)
        ).order_by(Event.starts_at, Event.id)
    ).all()
    return {"requests": list(requests), "sponsoring": list(sponsoring)}


def event_url(event: Event) -> str:
    return url_for("events.detail", event_id=event.id)


def _when(event: Event) -> str:
    return event.starts_at.strftime("%b %d, %Y %H:%M UTC")


# --- listing -----------------------------------------------------------------------


@dataclass
class Page:
    items: list
    next_cursor: str | None


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
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode([rows[-1].starts_at.isoformat(), rows[-1].id])
    return Page(rows, next_cursor)


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


# --- sign-ups ----------------------------------------------------------------------


@dataclass
class SignupResult:
    signup: Signup | None
    status: str
    position: int | None
    replayed: bool = False


_signup_listeners: list[Callable[[Signup, Event, User], None]] = []


def on_signup(listener: Callable[[Signup, Event, User], None]) -> None:
    """``listener(signup, event, user)`` runs inside each new sign-up's transaction
    (attribution credits the event sign-up action to the sponsor through this)."""
    if listener not in _signup_listeners:
        _signup_listeners.append(listener)


_release_listeners: list[Callable[[Signup, Event, str], None]] = []


def on_signup_released(listener: Callable[[Signup, Event, str], None]) -> None:
    """``listener(signup, event, status)`` runs when a sign-up is cancelled or removed,
    inside that transaction (attribution takes back the sign-up's unpaid CPA)."""
    if listener not in _release_listeners:
        _release_listeners.append(listener)


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


def check_signups_open(event: Event) -> None:
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="signups_closed")
    if not event.signups_open():
        if event.has_started():
            raise Conflict("The event has started; sign-ups are closed.", code="signups_closed")
        raise Conflict("The sign-up deadline has passed.", code="signups_closed")


def check_idempotency_key(key) -> str | None:
    if key is None or key == "":
        return None
    if (
        not isinstance(key, str)
        or len(key) > IDEMPOTENCY_KEY_MAX
        or not key.isprintable()
        or not key.strip()
    ):
        raise ValidationFailed(
            "The Idempotency-Key header must be 1-200 printable characters.",
            code="invalid_idempotency_key",
            fields={"Idempotency-Key": ["Use 1-200 printable characters."]},
        )
    return key


def _replay(user: User, key: str, event: Event) -> SignupResult | None:
    previous = db.session.scalar(
        select(SignupRequest).where(SignupRequest.user_id == user.id, SignupRequest.key == key)
    )
    if previous is None:
        return None
    if previous.event_id != event.id:
        raise ValidationFailed(
            "This Idempotency-Key was already used for another event.",
            code="idempotency_key_reused",
            fields={"Idempotency-Key": ["Already used for another request."]},
        )
    signup = db.session.get(Signup, previous.signup_id) if previous.signup_id else None
    return SignupResult(signup, previous.status, previous.position, replayed=True)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _lock_event(event: Event) -> None:
    """Take the event row first (PostgreSQL row lock; SQLite's write lock): every
    change of seats or waitlist starts here, so they happen one at a time per event."""
    db.session.execute(
        update(Event)
        .where(Event.id == event.id)
        .values(live_version=Event.live_version + 1)
        .execution_options(synchronize_session=False)
    )


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
                rejoined = db.session.execute(
                    update(Signup)
                    .where(Signup.id == existing.id, Signup.status == CANCELLED)
                    .values(
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
                    .execution_options(synchronize_session=False)
                ).rowcount
                if rejoined != 1:
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
    signals.signup_made.send(signup, event=event, user=user)
    _announce_seats(event)
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
    _announce_seats(event)
    return promoted[0] if promoted else None


def remove_participant(actor: User, event: Event, user_id: int) -> Signup | None:
    """The host takes a member off the event (seat or waitlist); they cannot rejoin."""
    check_host(actor, event)
    signup = db.session.scalar(
        select(Signup).where(Signup.event_id == event.id, Signup.user_id == user_id)
    )
    if signup is None or not signup.is_active:
        raise NotFound("That member is not signed up.", code="not_signed_up")
    if event.has_ended():
        raise Conflict("The event is over.", code="event_ended")
    promoted = _release(event, signup, REMOVED)
    notifications.notify(
        signup.user_id,
        "event_removed",
        f"The host removed you from “{event.title}”.",
        event_url(event),
        actor_id=actor.id,
    )
    _announce_seats(event)
    return promoted[0] if promoted else None


def _release(event: Event, signup: Signup, new_status: str) -> list[Signup]:
    """Move an active sign-up to ``new_status``; a freed seat promotes in the same transaction."""
    _lock_event(event)
    # Read the sign-up again under the lock: it may have been promoted (or cancelled)
    # by another transaction since it was loaded.
    db.session.refresh(signup)
    old_status = signup.status
    if old_status not in ACTIVE_STATES:
        raise NotFound("That sign-up was already cancelled.", code="not_signed_up")
    moved = db.session.execute(
        update(Signup)
        .where(Signup.id == signup.id, Signup.status == old_status)
        .values(status=new_status, waitlist_ticket=None, cancelled_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise NotFound("That sign-up was already cancelled.", code="not_signed_up")
    if old_status == CONFIRMED:
        db.session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(seats_taken=Event.seats_taken - 1)
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(signup)
    db.session.refresh(event)
    signals.signup_released.send(signup, event=event, status=new_status)
    return _promote_waitlisted(event) if old_status == CONFIRMED else []


def _promote_waitlisted(event: Event) -> list[Signup]:
    """Give free seats to the lowest tickets, each told live and in the bell.

    The caller holds the event row (``_lock_event`` or a seat update), so no other
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
        moved = db.session.execute(
            update(Signup)
            .where(Signup.id == first.id, Signup.status == WAITLISTED)
            .values(status=CONFIRMED, waitlist_ticket=None, confirmed_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:  # cannot happen while we hold the event row; never hand out a phantom seat
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


def _participant_ids(event: Event) -> list[int]:
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


def _announce_seats(event: Event) -> None:
    db.session.flush()
    db.session.refresh(event)
    realtime.announce("event_seats", seats_payload(event), room=f"event:{event.id}")


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
    moved = db.session.execute(
        update(Signup)
        .where(Signup.id == signup.id, Signup.checked_in_at.is_(None))
        .values(checked_in_at=at, checked_in_by_id=actor.id, attendance=ATTENDED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(signup)
    if moved != 1:
        raise Conflict(f"{signup.user.username} is already checked in.", code="already_checked_in")
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
    return signup


def message_participants(actor: User, event: Event, body) -> EventMessage:
    """Send every participant (confirmed and waitlisted) a message, in the bell and on the page."""
    check_host(actor, event)
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise field_error("body", "Write a message first.")
    if len(text) > MESSAGE_MAX:
        raise field_error("body", f"Keep it under {MESSAGE_MAX:,} characters.")
    ratelimit.consume(
        current_app.config["POST_LIMIT"], "event-message", actor.id, message="Slow down a little."
    )
    recipients = [uid for uid in _participant_ids(event) if uid != actor.id]
    message = EventMessage(
        event_id=event.id,
        author_id=actor.id,
        body=text,
        recipients=len(recipients),
        created_at=now(),
    )
    db.session.add(message)
    db.session.flush()
    preview = text if len(text) <= 180 else text[:177] + "…"
    for user_id in recipients:
        notifications.notify(
            user_id,
            "event_message",
            f"{actor.username} about “{event.title}”: {preview}",
            event_url(event) + f"#message-{message.id}",
            actor_id=actor.id,
        )
    return message


def messages_for(viewer, event: Event) -> list[EventMessage]:
    """The host's messages, for the host and the members who signed up."""
    if not is_host(viewer, event):
        signup = find_signup(event, viewer)
        if signup is None or signup.status not in (*ACTIVE_STATES,):
            return []
    return list(
        db.session.scalars(
            select(EventMessage)
            .where(EventMessage.event_id == event.id)
            .order_by(EventMessage.id.desc())
        )
    )


# --- the member's own sign-ups and calendar feed -----------------------------------


def my_signups(user: User, *, include_past: bool = True) -> list[Signup]:
    query = (
        select(Signup)
        .join(Event, Event.id == Signup.event_id)
        .options(joinedload(Signup.event))
        .where(Signup.user_id == user.id, Signup.status.in_(ACTIVE_STATES))
        .order_by(Event.starts_at)
    )
    if not include_past:
        query = query.where(Event.ends_at > now())
    return list(db.session.scalars(query).unique())


def feed_for(user: User, *, reset: bool = False) -> CalendarFeed:
    """The member's calendar feed (made on first use); ``reset`` issues a new address."""
    feed = db.session.get(CalendarFeed, user.id)
    if feed is None:
        feed = CalendarFeed(user_id=user.id, token=secrets.token_urlsafe(32), created_at=now())
        db.session.add(feed)
    elif reset:
        feed.token = secrets.token_urlsafe(32)
        feed.created_at = now()
    db.session.flush()
    return feed


def user_for_feed(token) -> User | None:
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None:
        return None
    feed.last_fetched_at = now()
    return db.session.get(User, feed.user_id)


# --- background jobs ---------------------------------------------------------------


def reminder_lead() -> timedelta:
    return timedelta(hours=float(current_app.config.get("EVENTS_REMINDER_HOURS", 24)))


def send_reminders(batch: int = 500) -> int:
    """Remind confirmed participants of events starting within the lead time, once each.

    The once-only marker is ``reminded_at``, claimed by a conditional UPDATE (``WHERE
    reminded_at IS NULL``): two runs at once cannot both claim a sign-up. The in-app
    reminder commits with the claim; email (only with ``MAIL_SERVER``) is a task of its
    own per sign-up, queued after the commit (``email_reminder``), so a rolled-back
    claim never sent mail and a slow mail server never holds up the sweep.
    """
    at = now()
    due = db.session.scalars(
        select(Signup.id)
        .join(Event, Event.id == Signup.event_id)
        .where(
            Signup.status == CONFIRMED,
            Signup.reminded_at.is_(None),
            Event.cancelled_at.is_(None),
            Event.starts_at > at,
            Event.starts_at <= at + reminder_lead(),
        )
        .order_by(Event.starts_at, Signup.id)
        .limit(batch)
    ).all()
    claimed_ids: list[int] = []
    for signup_id in due:
        claimed = db.session.execute(
            update(Signup)
            .where(Signup.id == signup_id, Signup.reminded_at.is_(None), Signup.status == CONFIRMED)
            .values(reminded_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        signup = db.session.get(Signup, signup_id)
        db.session.refresh(signup)
        event = signup.event
        notifications.notify(
            signup.user_id,
            "event_reminder",
            f"Reminder: “{event.title}” starts {_when(event)}.",
            event_url(event),
        )
        claimed_ids.append(signup_id)
    db.session.commit()
    if current_app.config.get("MAIL_SERVER"):
        from .tasks import send_reminder_email

        for signup_id in claimed_ids:
            send_reminder_email.delay(signup_id)
    return len(claimed_ids)


def email_reminder(signup_id: int) -> bool:
    """Email one sign-up's reminder at most once; True when this call sent it.

    ``reminder_mailed_at`` is claimed by a conditional UPDATE and committed *before*
    the message goes out, so a retried or doubled task finds it claimed and sends
    nothing. A send that fails gives the claim back (and raises, for the task to retry
    later); only a server that fails after accepting the message could then see it twice.
    """
    if not current_app.config.get("MAIL_SERVER"):
        return False
    at = now()
    claimed = db.session.execute(
        update(Signup)
        .where(
            Signup.id == signup_id,
            Signup.status == CONFIRMED,
            Signup.reminded_at.is_not(None),
            Signup.reminder_mailed_at.is_(None),
        )
        .values(reminder_mailed_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return False
    message = _reminder_email(db.session.get(Signup, signup_id))
    try:
        message.send()
    except Exception:
        db.session.rollback()
        db.session.execute(
            update(Signup)
            .where(Signup.id == signup_id, Signup.reminder_mailed_at == at)
            .values(reminder_mailed_at=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        log.warning("reminder email for sign-up %s failed; will retry", signup_id, exc_info=True)
        raise
    return True


def record_no_shows(batch: int = 1000) -> int:
    """After an event ends, confirmed members who never checked in are kept as no-shows."""
    ended = select(Event.id).where(Event.ends_at <= now(), Event.cancelled_at.is_(None))
    return db.session.execute(
        update(Signup)
        .where(
            Signup.event_id.in_(ended),
            Signup.status == CONFIRMED,
            Signup.attendance.is_(None),
            Signup.checked_in_at.is_(None),
        )
        .values(attendance=NO_SHOW)
        .execution_options(synchronize_session=False)
    ).rowcount


def _reminder_email(signup: Signup) -> EmailMessage:
    event = signup.event
    where = event.online_url or event.location
    link = url_for("events.detail", event_id=event.id, _external=True)
    return EmailMessage(
        subject=f"Reminder: {event.title}",
        body=(
            f"Hi {signup.user.username},\n\n“{event.title}” starts {_when(event)}.\n"
            f"Where: {where}\nYour check-in code: {signup.checkin_code}\n\n{link}\n"
        ),
        from_email=current_app.config.get("MAIL_DEFAULT_SENDER", "plaza@localhost"),
        to=[signup.user.email],
    )


# --- the [[event:ID]] widget -------------------------------------------------------


def _load_for_embed(ids: list[int]) -> dict[int, Event]:
    """Every event card on a page in three queries: events, waitlists, the reader's sign-ups."""
    from flask_login import current_user

    events = {
        event.id: event
        for event in db.session.scalars(
            select(Event).options(joinedload(Event.host)).where(Event.id.in_(ids))
        )
    }
    waiting = waitlist_counts(list(events))
    mine = {}
    if events and current_user and current_user.is_authenticated:
        mine = {
            signup.event_id: signup
            for signup in db.session.scalars(
                select(Signup).where(
                    Signup.event_id.in_(list(events)), Signup.user_id == current_user.id
                )
            )
        }
    for event_id, event in events.items():
        event.shown_waitlist = waiting.get(event_id, 0)
        event.shown_signup = mine.get(event_id)
    return events


def _render_card(event: Event, context: embeds.EmbedContext, href: str) -> Markup:
    from flask import render_template
    from flask_login import current_user

    # Posts are rendered for each reader; chat may render a message once for a whole
    # room, so there the card says nothing about the viewer (events.js asks).
    personal = context.source_kind != "message"
    preloaded = hasattr(event, "shown_waitlist")
    signup = None
    if personal:
        signup = event.shown_signup if preloaded else find_signup(event, current_user)
    return Markup(  # noqa: S704 (a trusted template, autoescaped)
        render_template(
            "events/_card.html",
            event=event,
            href=href,
            personal=personal,
            signup=signup,
            position=waitlist_position(signup) if signup else None,
            waitlist=event.shown_waitlist if preloaded else waitlist_count(event),
        )
    )


embeds.register(
    embeds.WidgetKind(kind="event", load=_load_for_embed, render=_render_card, url=event_url)
)
