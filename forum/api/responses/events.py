"""Events: events, sign-ups, sponsorships, check-in, messages."""

from .shared import Cursor, Out, Timestamp, UserRef

# --- events -------------------------------------------------------------------------


class Signup(Out):
    event_id: int
    status: str
    position: int | None
    checkin_code: str | None
    checked_in_at: Timestamp | None
    created_at: Timestamp | None


class SponsorRequest(Out):
    merchant: UserRef
    requested_at: Timestamp | None


class Event(Out):
    id: int
    title: str
    description: str
    description_html: str
    location: str
    online_url: str | None
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    signup_deadline: Timestamp | None
    signups_close_at: Timestamp | None
    signups_open: bool
    capacity: int | None
    seats_taken: int
    seats_left: int | None
    waitlist_count: int
    host: UserRef
    sponsor: UserRef | None
    thread_id: int | None
    cover_colour: str
    cover_image_url: str | None
    cancelled: bool
    url: str
    ics_url: str
    created_at: Timestamp | None
    my_signup: Signup | None = None
    sponsor_request: SponsorRequest | None = None  # the host and the merchant asked only


class Sponsorship(Out):
    event_id: int
    title: str
    host: UserRef
    starts_at: Timestamp | None
    url: str
    requested_at: Timestamp | None
    accepted_at: Timestamp | None


class Sponsorships(Out):
    requests: list[Sponsorship]
    sponsoring: list[Sponsorship]


class EventPage(Out):
    items: list[Event]
    next_cursor: Cursor


class SignupResult(Out):
    status: str
    position: int | None
    event_id: int = 0
    checkin_code: str | None = None


class Participant(Out):
    user: UserRef
    status: str
    position: int | None
    checkin_code: str | None
    checked_in_at: Timestamp | None
    attendance: str | None


class ParticipantList(Out):
    items: list[Participant]
    next_cursor: None


class CheckedIn(Signup):
    user: UserRef


class EventMessage(Out):
    id: int
    author: UserRef
    body: str
    recipients: int
    created_at: Timestamp | None


class MyEvent(Out):
    event: Event
    signup: Signup


class MyEventList(Out):
    items: list[MyEvent]
    next_cursor: None
