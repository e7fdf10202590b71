"""The member's own sign-ups and their secret calendar feed."""

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
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


def feed_of(user: User) -> CalendarFeed | None:
    """The member's calendar feed, if they have one (reads only: pages are GETs)."""
    return db.session.get(CalendarFeed, user.id)


def feed_for(user: User, *, reset: bool = False) -> CalendarFeed:
    """The member's calendar feed, made if missing; ``reset`` issues a new address.

    Signing up makes it (``sign_up`` calls this), so the "my events" page only reads.
    Two sign-ups of one member at once may both try to make it: the loser's savepoint
    rolls back and it reads the winner's.
    """
    feed = db.session.get(CalendarFeed, user.id)
    if feed is None:
        try:
            with db.session.begin_nested():
                feed = CalendarFeed(
                    user_id=user.id, token=secrets.token_urlsafe(32), created_at=now()
                )
                db.session.add(feed)
        except IntegrityError:
            feed = db.session.get(CalendarFeed, user.id)
            if feed is None:
                raise
        if not reset:
            return feed
    if reset:
        feed.token = secrets.token_urlsafe(32)
        feed.created_at = now()
        db.session.flush()
    return feed


def user_for_feed(token) -> User | None:
    """Whose feed ``token`` opens (None: nobody's). Reads only: calendar apps GET it."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None:
        return None
    return db.session.get(User, feed.user_id)
