"""The member's own sign-ups and their secret calendar feed."""

import secrets

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...accounts.models import User
from ...clock import now
from ...extensions import db
from ..models import (
    ACTIVE_STATES,
    CalendarFeed,
    Event,
    Signup,
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
