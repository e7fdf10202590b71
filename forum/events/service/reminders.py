"""Background sweeps: reminders (in-app and email) and no-shows."""

import logging
from datetime import timedelta

from flask import current_app, url_for
from flask_mailman import EmailMessage
from sqlalchemy import select

from ...clock import now
from ...database import update_where
from ...extensions import db
from ...notifications import service as notifications
from ..models import (
    CONFIRMED,
    NO_SHOW,
    Event,
    Signup,
)
from .common import (
    event_url,
    when_text,
)

log = logging.getLogger(__name__)


# --- background jobs ---------------------------------------------------------------


def reminder_lead() -> timedelta:
    return timedelta(hours=float(current_app.config["EVENTS_REMINDER_HOURS"]))


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
        claimed = update_where(
            Signup,
            Signup.id == signup_id,
            Signup.reminded_at.is_(None),
            Signup.status == CONFIRMED,
            reminded_at=at,
        )
        if claimed != 1:
            continue
        signup = db.session.get(Signup, signup_id)
        db.session.refresh(signup)
        event = signup.event
        notifications.notify(
            signup.user_id,
            "event_reminder",
            f"Reminder: “{event.title}” starts {when_text(event)}.",
            event_url(event),
        )
        claimed_ids.append(signup_id)
    db.session.commit()
    if current_app.config.get("MAIL_SERVER"):
        from ..tasks import send_reminder_email

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
    claimed = update_where(
        Signup,
        Signup.id == signup_id,
        Signup.status == CONFIRMED,
        Signup.reminded_at.is_not(None),
        Signup.reminder_mailed_at.is_(None),
        reminder_mailed_at=at,
    )
    db.session.commit()
    if claimed != 1:
        return False
    message = _reminder_email(db.session.get(Signup, signup_id))
    try:
        message.send()
    except Exception:
        db.session.rollback()
        update_where(
            Signup, Signup.id == signup_id, Signup.reminder_mailed_at == at, reminder_mailed_at=None
        )
        db.session.commit()
        log.warning("reminder email for sign-up %s failed; will retry", signup_id, exc_info=True)
        raise
    return True


def record_no_shows(batch: int = 1000) -> int:
    """After an event ends, confirmed members who never checked in are kept as no-shows."""
    ended = select(Event.id).where(Event.ends_at <= now(), Event.cancelled_at.is_(None))
    return update_where(
        Signup,
        Signup.event_id.in_(ended),
        Signup.status == CONFIRMED,
        Signup.attendance.is_(None),
        Signup.checked_in_at.is_(None),
        attendance=NO_SHOW,
    )


def _reminder_email(signup: Signup) -> EmailMessage:
    event = signup.event
    where = event.online_url or event.location
    link = url_for("events.detail", event_id=event.id, _external=True)
    return EmailMessage(
        subject=f"Reminder: {event.title}",
        body=(
            f"Hi {signup.user.username},\n\n“{event.title}” starts {when_text(event)}.\n"
            f"Where: {where}\nYour check-in code: {signup.checkin_code}\n\n{link}\n"
        ),
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[signup.user.email],
    )
