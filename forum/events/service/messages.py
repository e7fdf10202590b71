"""The host's messages to every participant."""

from flask import current_app

from ... import ratelimit
from ...accounts.models import User
from ...clock import now
from ...database import newest_first
from ...errors import field_error
from ...extensions import db
from ...notifications import service as notifications
from ..models import (
    ACTIVE_STATES,
    Event,
    EventMessage,
)
from .common import (
    MESSAGE_MAX,
    check_host,
    event_url,
    find_signup,
    is_host,
    participant_ids,
)


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
    recipients = [uid for uid in participant_ids(event) if uid != actor.id]
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
    return newest_first(EventMessage.event_id, event.id)
