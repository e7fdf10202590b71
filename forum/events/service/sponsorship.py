"""Sponsorship: a host asks a merchant; only the merchant's acceptance bills it."""

from datetime import datetime

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...accounts.models import User
from ...clock import now
from ...errors import Conflict, Forbidden
from ...extensions import db
from ...notifications import service as notifications
from ..models import (
    Event,
)
from .common import (
    check_can_act,
    check_host,
    event_url,
)

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
