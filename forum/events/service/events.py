"""Events themselves: their fields checked, created, changed and called off."""

import logging

from flask import current_app, url_for
from sqlalchemy import select

from ... import markup, ratelimit, signals
from ...accounts.models import User
from ...clock import now
from ...errors import Conflict, NotFound, ValidationFailed, field_error
from ...extensions import db
from ...moderation import service as moderation
from ...notifications import service as notifications
from ...pagination import id_batch
from ...times import parse_time
from .. import covers
from ..models import (
    COVER_COLOURS,
    Event,
)
from .common import (
    CAPACITY_MAX,
    DESCRIPTION_MAX,
    LOCATION_MAX,
    LONGEST_EVENT,
    TITLE_MAX,
    TITLE_MIN,
    URL_MAX,
    announce_seats,
    check_can_act,
    check_host,
    event_url,
    lock_event,
    participant_ids,
    when_text,
)
from .signups import promote_waitlisted
from .sponsorship import request_sponsor

log = logging.getLogger(__name__)


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


def create_event(
    host: User,
    *,
    discussion_category: str | None = None,
    cover_image: bytes | None = None,
    **values,
) -> Event:
    """Create an event hosted by ``host``.

    With ``discussion_category`` (a category slug) a discussion thread is opened there
    through the board's service, its first post embedding the event card. With
    ``cover_image`` (the uploaded bytes) the picture is checked and re-encoded by
    ``covers.save_cover`` before anything is written.
    Raises ValidationFailed (bad fields or image), Forbidden (suspended), RateLimited.
    """
    check_can_act(host)
    clean = check_event_fields(values)
    category = None
    if discussion_category:
        from ...board import service as board

        try:
            category = board.get_category(discussion_category, host)
        except NotFound:
            raise field_error("discussion_category", "No such category.") from None
    ratelimit.consume(
        current_app.config["POST_LIMIT"],
        "event",
        host.id,
        message="You are creating events too fast.",
    )
    cover = covers.save_cover(cover_image) if cover_image else None
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
        cover_image=cover,
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
        from ...board import service as board

        body = f"[[event:{event.id}]]\n\n{event.description}".strip()
        thread = board.create_thread(host, category, event.title, body)
        event.thread_id = thread.id
        db.session.flush()
    signals.search_stale.send("event", ids=[event.id])
    return event


def update_event(actor: User, event: Event, *, cover_image: bytes | None = None, **values) -> Event:
    """Change an event (host or moderator) before it starts.

    More capacity promotes waitlisted members at once; a new time or place bumps
    the iCalendar SEQUENCE and tells every participant. A new ``cover_image`` (bytes)
    replaces the cover; without one the cover stays.
    """
    check_host(actor, event)
    if event.is_cancelled:
        raise Conflict("This event was cancelled.", code="event_cancelled")
    if event.has_started():
        raise Conflict("The event has started; it can no longer be changed.", code="event_started")
    lock_event(event)
    db.session.refresh(event)
    clean = check_event_fields(values, current=event)
    moved = any(
        name in clean and clean[name] != getattr(event, name)
        for name in ("starts_at", "ends_at", "location", "online_url")
    )
    if cover_image:
        clean["cover_image"] = covers.save_cover(cover_image)
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
    signals.search_stale.send("event", ids=[event.id])
    promoted = promote_waitlisted(event)
    if moved:
        for user_id in participant_ids(event):
            notifications.notify(
                user_id,
                "event_changed",
                f"“{event.title}” changed: now {when_text(event)}",
                event_url(event),
                actor_id=actor.id,
            )
    announce_seats(event)
    log.debug("event %s updated, %s promoted", event.id, len(promoted))
    return event


def cancel_event(actor: User, event: Event, reason: str = "") -> None:
    """Call the event off (host or moderator); participants are told, with the reason
    when one is given, and sign-ups stay on record. A moderator calling off someone
    else's event must give a reason (ValidationFailed before anything changes); it is
    sent to the participants and kept in the audit log."""
    check_host(actor, event)
    by_moderator = actor.id != event.host_id
    reason = moderation.check_reason(reason) if by_moderator or (reason or "").strip() else ""
    if event.is_cancelled:
        raise Conflict("This event was already cancelled.", code="event_cancelled")
    if event.has_ended():
        raise Conflict("The event is over.", code="event_ended")
    lock_event(event)
    event.cancelled_at = now()
    event.sequence = (event.sequence or 0) + 1
    db.session.flush()
    signals.search_stale.send("event", ids=[event.id])
    who = "a moderator" if by_moderator else "the host"
    text = f"“{event.title}” was cancelled by {who}" + (f": {reason}" if reason else ".")
    for user_id in participant_ids(event):
        notifications.notify(user_id, "event_cancelled", text, event_url(event), actor_id=actor.id)
    if by_moderator:
        moderation.record(
            actor, "event.cancel", "event", event.id, reason=reason, subject_id=event.host_id
        )
    announce_seats(event)


def search_documents(ids=None, *, after: int = 0, limit: int = 1000):
    """Search documents for events not cancelled (``ids``, or the next ``limit`` past
    ``after``): title over description and place; an event with an accepted sponsor
    carries an offer. Returns (documents, the last id scanned when more may follow,
    else None)."""
    from ...search.schemas import Document

    query = select(Event).where(Event.cancelled_at.is_(None))
    rows, last = id_batch(query, Event.id, ids, after=after, limit=limit)
    docs = [
        Document.of_row(
            "event",
            event.id,
            url=url_for("events.detail", event_id=event.id),
            title=event.title,
            body=" ".join(
                (markup.plain_text(event.description_html), event.location or "")
            ).strip(),
            label=event.starts_at.strftime("%a %d %b %Y"),
            author_id=event.host_id,
            has_offer=event.sponsor_accepted_at is not None,
            created_at=event.created_at,
        )
        for event in rows
    ]
    return docs, last
