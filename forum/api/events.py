from flask import request

from ..accounts.schemas import dump_user_ref
from ..errors import NotFound
from ..events import service
from ..events.schemas import (
    CheckInBody,
    EventBody,
    EventPatch,
    MessageBody,
    dump_event,
    dump_message,
    dump_participant,
    dump_signup,
    dump_signup_result,
    dump_sponsorship,
)
from ..permissions import acting_user as _user
from ..schemas import ReasonBody
from . import bp, responses
from .core import PAGE, endpoints, idempotency_key, page_args

endpoint = endpoints(bp, tag="events")


@endpoint(
    "/events",
    "GET",
    auth="anyone",
    query=(("when", {"type": "string", "enum": ["upcoming", "past"]}), *PAGE),
    response=responses.EventPage,
)
def list_events():
    """Upcoming (or past) events"""
    page = service.list_events(request.args.get("when", "upcoming"), **page_args())
    counts = service.waitlist_counts([event.id for event in page.items])
    return page.dump(lambda event: dump_event(event, waitlist=counts.get(event.id, 0)))


@endpoint("/events", "POST", body=EventBody, status=201, errors=(429,), response=responses.Event)
def create_event(data: EventBody):
    """Create an event"""
    values = data.model_dump(exclude={"discussion_category"})
    event = service.create_event(_user(), discussion_category=data.discussion_category, **values)
    return dump_event(event, waitlist=0, viewer=_user())


@endpoint("/events/<int:event_id>", "GET", auth="anyone", response=responses.Event)
def get_event(event_id: int):
    """An event with seats left and waitlist length"""
    return dump_event(service.get_event(event_id), viewer=_user())


@endpoint(
    "/events/<int:event_id>", "PATCH", body=EventPatch, errors=(409,), response=responses.Event
)
def update_event(event_id: int, data: EventPatch):
    """Change an event (host)"""
    event = service.get_event(event_id)
    return dump_event(service.update_event(_user(), event, **data.changes()), viewer=_user())


@endpoint(
    "/events/<int:event_id>/cancel",
    "POST",
    body=ReasonBody,
    errors=(409,),
    response=responses.Event,
)
def cancel_event(event_id: int, data: ReasonBody):
    """Call an event off (host; a moderator calling off another's event gives a reason)"""
    event = service.get_event(event_id)
    service.cancel_event(_user(), event, data.reason)
    return dump_event(event, viewer=_user())


@endpoint(
    "/events/<int:event_id>/signup",
    "POST",
    status=201,
    errors=(409, 422),
    response=responses.SignupResult,
)
def sign_up(event_id: int):
    """Sign up: confirmed while seats remain, else waitlisted (Idempotency-Key honoured)"""
    event = service.get_event(event_id)
    result = service.sign_up(_user(), event, idempotency_key=idempotency_key())
    return dump_signup_result(result)


@endpoint("/events/<int:event_id>/signup", "GET", response=responses.Signup)
def my_signup(event_id: int):
    """Your sign-up, its position and check-in code"""
    event = service.get_event(event_id)
    signup = service.find_signup(event, _user())
    if signup is None or not signup.is_active:
        raise NotFound("You are not signed up for this event.", code="not_signed_up")
    return dump_signup(signup)


@endpoint("/events/<int:event_id>/signup", "DELETE", errors=(409,))
def cancel_signup(event_id: int):
    """Cancel your sign-up; the first waitlisted member is confirmed"""
    event = service.get_event(event_id)
    service.cancel_signup(_user(), event)


@endpoint(
    "/events/<int:event_id>/participants", "GET", errors=(403,), response=responses.ParticipantList
)
def participants(event_id: int):
    """Check-in list (host)"""
    event = service.get_event(event_id)
    return {
        "items": [dump_participant(p) for p in service.participants(_user(), event)],
        "next_cursor": None,
    }


@endpoint(
    "/events/<int:event_id>/participants/<int:user_id>", "DELETE", body=ReasonBody, errors=(409,)
)
def remove_participant(event_id: int, user_id: int, data: ReasonBody):
    """Remove a participant (host), with a reason they are sent; the seat goes to the waitlist"""
    event = service.get_event(event_id)
    service.remove_participant(_user(), event, user_id, data.reason)


@endpoint(
    "/events/<int:event_id>/checkin",
    "POST",
    body=CheckInBody,
    errors=(409,),
    response=responses.CheckedIn,
)
def check_in(event_id: int, data: CheckInBody):
    """Check a participant in by code (host)"""
    event = service.get_event(event_id)
    signup = service.check_in(_user(), event, data.code)
    return {"user": dump_user_ref(signup.user), **dump_signup(signup)}


@endpoint(
    "/events/<int:event_id>/messages",
    "POST",
    body=MessageBody,
    status=201,
    errors=(429,),
    response=responses.EventMessage,
)
def message_participants(event_id: int, data: MessageBody):
    """Message every participant (host)"""
    event = service.get_event(event_id)
    return dump_message(service.message_participants(_user(), event, data.body))


@endpoint("/me/events", "GET", response=responses.MyEventList)
def my_events():
    """Events you signed up for"""
    signups = service.my_signups(_user())
    return {
        "items": [{"event": dump_event(s.event), "signup": dump_signup(s)} for s in signups],
        "next_cursor": None,
    }


# --- sponsorship: a host's sponsor_id is a request; the merchant accepts or declines ---


@endpoint("/merchant/sponsorships", "GET", auth="merchant", response=responses.Sponsorships)
def my_sponsorships():
    """Sponsorship requests to you and the events you sponsor"""
    found = service.sponsorships_of(_user())
    return {name: [dump_sponsorship(event) for event in events] for name, events in found.items()}


# The asked merchant's answer to a host's request to sponsor, answered with the event.
sponsorship_answer = endpoints(
    bp, tag="events", auth="merchant", errors=(409,), response=responses.Event
)


@sponsorship_answer("/events/<int:event_id>/sponsorship/accept", "POST")
def accept_sponsorship(event_id: int):
    """Accept the host's request to sponsor (from now on its sign-ups bill you)"""
    event = service.accept_sponsorship(_user(), service.get_event(event_id))
    return dump_event(event, viewer=_user())


@sponsorship_answer("/events/<int:event_id>/sponsorship/decline", "POST")
def decline_sponsorship(event_id: int):
    """Decline the host's request to sponsor"""
    event = service.decline_sponsorship(_user(), service.get_event(event_id))
    return dump_event(event, viewer=_user())


@endpoint("/events/<int:event_id>/sponsorship", "DELETE", errors=(409,))
def end_sponsorship(event_id: int):
    """End the sponsorship (the sponsor or the host)"""
    service.end_sponsorship(_user(), service.get_event(event_id))
