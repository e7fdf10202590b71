"""iCalendar export (RFC 5545) with the ``icalendar`` library.

One file per event (``/events/<id>.ics``) and a member's feed of the events they
signed up for. UIDs are stable per event, SEQUENCE follows the host's changes
to time or place, and a cancelled event is kept with STATUS:CANCELLED so calendar
apps remove it instead of keeping a stale entry.
"""

from datetime import datetime

from flask import request, url_for
from icalendar import Calendar
from icalendar import Event as VEvent

from ..clock import now
from .models import WAITLISTED, Event, Signup

PRODID = "-//Plaza//Community events//EN"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _uid(event: Event) -> str:
    return f"plaza-event-{event.id}@{request.host.split(':')[0] or 'plaza'}"


def _vevent(
    event: Event, stamp: datetime, *, waitlisted: bool = False, code: str | None = None
) -> VEvent:
    item = VEvent()
    link = url_for("events.detail", event_id=event.id, _external=True)
    item.add("uid", _uid(event))
    item.add("dtstamp", stamp)
    item.add("created", event.created_at)
    item.add("last-modified", event.updated_at or event.created_at)
    item.add("sequence", event.sequence or 0)
    item.add("dtstart", event.starts_at)
    item.add("dtend", event.ends_at)
    item.add("summary", ("[Waitlist] " if waitlisted else "") + event.title)
    where = ", ".join(part for part in (event.location, event.online_url) if part)
    if where:
        item.add("location", where)
    notes = [event.description.strip()] if event.description.strip() else []
    notes.append(f"Hosted by {event.host.username} on Plaza.")
    if event.online_url:
        notes.append(f"Join online: {event.online_url}")
    if code:
        notes.append(f"Your check-in code: {code}")
    notes.append(link)
    item.add("description", "\n\n".join(notes))
    item.add("url", link)
    if event.is_cancelled:
        item.add("status", "CANCELLED")
    else:
        item.add("status", "TENTATIVE" if waitlisted else "CONFIRMED")
    return item


def event_file(event: Event) -> bytes:
    calendar = _calendar(event.title)
    calendar.add_component(_vevent(event, now()))
    return calendar.to_ical()


def member_feed(username: str, signups: list[Signup]) -> bytes:
    calendar = _calendar(f"Plaza events · {username}")
    calendar.add("x-published-ttl", "PT1H")
    stamp = now()
    for signup in signups:
        calendar.add_component(
            _vevent(
                signup.event,
                stamp,
                waitlisted=signup.status == WAITLISTED,
                code=signup.checkin_code,
            )
        )
    return calendar.to_ical()
