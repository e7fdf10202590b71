"""Creating, listing and reading notifications; each one is also pushed live."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update

from .. import realtime, signals
from ..accounts.models import User
from ..clock import now
from ..errors import NotFound
from ..extensions import db
from .models import Notification

PAGE = 30


def notify(
    user_id: int, kind: str, text: str, url: str, *, actor_id: int | None = None, **params
) -> Notification | None:
    """Tell ``user_id`` something; nobody is notified of their own action."""
    if actor_id is not None and actor_id == user_id:
        return None
    item = Notification(
        user_id=user_id, actor_id=actor_id, kind=kind, text=text[:300], url=url[:300], params=params
    )
    db.session.add(item)
    db.session.flush()
    realtime.announce(
        "notification",
        {
            "id": item.id,
            "kind": kind,
            "text": item.text,
            "url": item.url,
            "unread": unread_count(user_id),
        },
        room=f"user:{user_id}",
    )
    signals.notification_created.send(item)
    return item


MENTIONS_MAX = 20  # one message or post tells at most this many members


def notify_mentioned(
    author,
    mentions: list[str],
    kind: str,
    text: str,
    url: str,
    *,
    told: set[int],
    may_see: Callable[[Any], bool] | None = None,
) -> None:
    """Tell each member ``@named`` in ``mentions`` (``username_key``s, the first
    MENTIONS_MAX) once: nobody in ``told`` (which grows with each one told), nobody
    ``may_see`` refuses (never about a place they cannot open)."""
    if not mentions:
        return
    users = db.session.scalars(select(User).where(User.username_key.in_(mentions[:MENTIONS_MAX])))
    for user in users:
        if user.id in told or (may_see is not None and not may_see(user)):
            continue
        notify(user.id, kind, text, url, actor_id=author.id)
        told.add(user.id)


def unread_count(user_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def recent(user_id: int, limit: int = PAGE) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(user_id: int, notification_id: int | None = None) -> None:
    """Mark one (or, with no id, every) notification of ``user_id`` as read."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        if db.session.get(Notification, notification_id) is None:
            raise NotFound()
        query = query.where(Notification.id == notification_id)
    db.session.execute(query.values(read_at=now()))
    realtime.announce(
        "notification_count", {"unread": unread_count(user_id)}, room=f"user:{user_id}"
    )


def open_notification(user_id: int, notification_id: int) -> str:
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != user_id:
        raise NotFound()
    if item.read_at is None:
        item.read_at = now()
    return item.url


# --- for notification email (campaigns): what a member has not read yet ----------------


def find_notification(notification_id: int) -> Notification | None:
    """The notification without a viewer check (its email goes to its owner)."""
    return db.session.get(Notification, notification_id)


def unread_ids(*, kinds, since, users, skip, limit: int) -> list[int]:
    """Unread notifications of ``kinds`` created after ``since`` for the members in
    ``users`` and not in ``skip`` (ids or subqueries of them), oldest first."""
    return list(
        db.session.scalars(
            select(Notification.id)
            .where(
                Notification.read_at.is_(None),
                Notification.created_at > since,
                Notification.kind.in_(tuple(kinds)),
                Notification.user_id.in_(users),
                Notification.id.not_in(skip),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )


def unread_of(user_id: int, *, since, skip, limit: int) -> list[Notification]:
    """The member's unread notifications created after ``since`` and not in ``skip``."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(
                Notification.user_id == user_id,
                Notification.read_at.is_(None),
                Notification.created_at > since,
                Notification.id.not_in(skip),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )
