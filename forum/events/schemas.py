"""API bodies and JSON shapes of events and sign-ups.

Times come in as ISO 8601 strings with an offset and are checked by the service
(which says clearly what is wrong); they go out as UTC ISO 8601.
"""

from flask import url_for
from pydantic import Field

from ..accounts.schemas import dump_user_ref
from ..schemas import Body, DbInt, Id, attrs, iso
from . import service
from .models import Event, Signup


class EventBody(Body):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=20_000)
    starts_at: str = Field(max_length=64)
    ends_at: str = Field(max_length=64)
    location: str = Field(default="", max_length=300)
    online_url: str | None = Field(default=None, max_length=500)
    capacity: DbInt | None = None
    signup_deadline: str | None = Field(default=None, max_length=64)
    sponsor_id: Id | None = None
    cover_colour: str = Field(default="indigo", max_length=16)
    discussion_category: str | None = Field(default=None, max_length=48)


class EventPatch(Body):
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    starts_at: str | None = Field(default=None, max_length=64)
    ends_at: str | None = Field(default=None, max_length=64)
    location: str | None = Field(default=None, max_length=300)
    online_url: str | None = Field(default=None, max_length=500)
    capacity: DbInt | None = None
    signup_deadline: str | None = Field(default=None, max_length=64)
    sponsor_id: Id | None = None
    cover_colour: str | None = Field(default=None, max_length=16)

    def changes(self) -> dict:
        """Only the fields the caller sent (``capacity: null`` means unlimited)."""
        return {name: getattr(self, name) for name in self.model_fields_set}


class CheckInBody(Body):
    code: str = Field(max_length=32)


class MessageBody(Body):
    body: str = Field(max_length=service.MESSAGE_MAX)


def cover_url(event: Event) -> str | None:
    if not event.cover_image:
        return None
    return url_for("events.cover", name=event.cover_image)


def dump_event(event: Event, *, waitlist: int | None = None, viewer=None) -> dict:
    data = {
        **attrs(event, "id", "title", "description", "description_html", "location", "online_url"),
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "signup_deadline": iso(event.signup_deadline),
        "signups_close_at": iso(event.closes_at),
        "signups_open": event.signups_open(),
        **attrs(event, "capacity", "seats_taken", "seats_left"),
        "waitlist_count": service.waitlist_count(event) if waitlist is None else waitlist,
        "host": dump_user_ref(event.host),
        # The merchant who accepted; a host's request shows as sponsor_request to those concerned.
        "sponsor": dump_user_ref(event.sponsor) if event.paying_sponsor_id else None,
        "thread_id": event.thread_id,
        "cover_colour": event.cover_colour,
        "cover_image_url": cover_url(event),
        "cancelled": event.is_cancelled,
        "url": url_for("events.detail", event_id=event.id),
        "ics_url": url_for("events.ics", event_id=event.id),
        "created_at": iso(event.created_at),
    }
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        if event.sponsor_request_id is not None and (
            viewer.id == event.sponsor_request_id or service.is_host(viewer, event)
        ):
            data["sponsor_request"] = dump_sponsor_request(event)
        signup = service.find_signup(event, viewer)
        data["my_signup"] = dump_signup(signup) if signup and signup.is_active else None
    return data


def dump_sponsor_request(event: Event) -> dict | None:
    """The merchant the host asked to sponsor (it pays nothing until it accepts)."""
    if event.sponsor_request_id is None:
        return None
    return {
        "merchant": dump_user_ref(event.sponsor_request),
        "requested_at": iso(event.sponsor_requested_at),
    }


def dump_sponsorship(event: Event) -> dict:
    """An event as the merchant's sponsorship queue lists it."""
    return {
        "event_id": event.id,
        "title": event.title,
        "host": dump_user_ref(event.host),
        "starts_at": iso(event.starts_at),
        "url": url_for("events.detail", event_id=event.id),
        "requested_at": iso(event.sponsor_requested_at),
        "accepted_at": iso(event.sponsor_accepted_at),
    }


def dump_signup(signup: Signup, position: int | None = None) -> dict:
    if position is None:
        position = service.waitlist_position(signup)
    return {
        "event_id": signup.event_id,
        "status": signup.status,
        "position": position,
        "checkin_code": signup.checkin_code if signup.is_active else None,
        "checked_in_at": iso(signup.checked_in_at),
        "created_at": iso(signup.created_at),
    }


def dump_signup_result(result: service.SignupResult) -> dict:
    data = {"status": result.status, "position": result.position}
    if result.signup is not None:
        data["event_id"] = result.signup.event_id
        data["checkin_code"] = result.signup.checkin_code
    return data


def dump_participant(participant: service.Participant) -> dict:
    signup = participant.signup
    return {
        "user": dump_user_ref(signup.user),
        "status": signup.status,
        "position": participant.position,
        "checkin_code": signup.checkin_code,
        "checked_in_at": iso(signup.checked_in_at),
        "attendance": participant.attendance,
    }


def dump_message(message) -> dict:
    return {
        "id": message.id,
        "author": dump_user_ref(message.author),
        "body": message.body,
        "recipients": message.recipients,
        "created_at": iso(message.created_at),
    }
