"""What an ``[[event:ID]]`` card shows, for a viewer the caller names.

The service never asks who is reading: the embed renderer (``forum.events.embed``)
passes the viewer in, or None where one rendering serves many readers (chat rooms).
"""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ..models import Event, Signup
from .common import find_signup, waitlist_count, waitlist_counts, waitlist_position


def load_cards(ids: list[int], viewer=None) -> dict[int, Event]:
    """Every event card on a page in three queries: events, waitlists, ``viewer``'s sign-ups.

    Each event carries ``shown_waitlist`` and ``shown_signup`` (``viewer``'s, or None).
    """
    events = {
        event.id: event
        for event in db.session.scalars(
            select(Event).options(joinedload(Event.host)).where(Event.id.in_(ids))
        )
    }
    waiting = waitlist_counts(list(events))
    mine = {}
    if events and viewer is not None and getattr(viewer, "is_authenticated", False):
        mine = {
            signup.event_id: signup
            for signup in db.session.scalars(
                select(Signup).where(Signup.event_id.in_(list(events)), Signup.user_id == viewer.id)
            )
        }
    for event_id, event in events.items():
        event.shown_waitlist = waiting.get(event_id, 0)
        event.shown_signup = mine.get(event_id)
    return events


def card_state(event: Event, viewer=None) -> dict:
    """The card's ``signup``, ``position`` and ``waitlist`` for ``viewer`` (None: nobody's).

    Uses what :func:`load_cards` attached when the event came from there.
    """
    preloaded = hasattr(event, "shown_waitlist")
    signup = None
    if viewer is not None:
        signup = event.shown_signup if preloaded else find_signup(event, viewer)
    return {
        "signup": signup,
        "position": waitlist_position(signup) if signup else None,
        "waitlist": event.shown_waitlist if preloaded else waitlist_count(event),
    }
