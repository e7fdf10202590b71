"""Creating, listing and reading notifications; each one is also pushed live.

Replies, mentions and watched posts are *grouped*: one row per member, kind and target
(``thread:12``, ``room:4``) while it is unread, naming its actors ("alice and 3 others
replied in …", "alice and 2 others mentioned you in #coffee", "3 new messages from bob"),
so thirteen replies ring the bell once. A group is read when the bell's page has shown
it (the page's POST beacon, ``see``), the member follows it (a POST, ``open_notification``)
or reads its target (board's reading marks call ``mark_seen``), never by a GET. The
next event then starts a new group.

Each member may turn types off in the bell (``TYPES``; a muted type is never made, so it
is never pushed nor emailed either). Email choices per type are campaigns'.
"""

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, func, select, update

from .. import realtime, signals
from ..accounts.models import User
from ..clock import now
from ..database import insert_ignore, newest_first
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from .models import Notification, NotificationMute

PAGE = 30
ACTOR_NAMES_MAX = 50  # names kept on a group (the text shows at most two)

# The types a member may turn off in the bell, and the kinds each covers. Kinds not
# listed (moderators' decisions, reports, sponsorships, trust) always get through.
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "mention": ("Mentions of you", ("mention", "chat_mention")),
    "reply": ("Replies to your threads and posts", ("reply", "review_reply")),
    "watching": ("New posts in threads and categories you watch", ("watching",)),
    "dm": ("Direct messages and chat invitations", ("chat_direct", "chat_invite")),
    "event": (
        "Events you signed up for",
        (
            "event_cancelled",
            "event_changed",
            "event_message",
            "event_promoted",
            "event_reminder",
            "event_removed",
        ),
    ),
    "review": ("Invitations to review what you bought", ("review_invite", "review_reminder")),
    "offer": (
        "Offers: reminders, teams, games you won",
        ("offer_reminder", "team_failed", "team_succeeded", "guess_won"),
    ),
    "membership": ("Your tier and badges", ("tier_changed", "badge")),
}
TYPE_OF = {kind: type_ for type_, (_label, kinds) in TYPES.items() for kind in kinds}


def is_muted(user_id: int, kind: str) -> bool:
    type_ = TYPE_OF.get(kind)
    return type_ is not None and (db.session.get(NotificationMute, (user_id, type_)) is not None)


def _push(item: Notification) -> None:
    realtime.announce(
        "notification",
        {
            "id": item.id,
            "kind": item.kind,
            "text": item.text,
            "url": item.url,
            "count": item.count,
            "unread": unread_count(item.user_id),
        },
        room=f"user:{item.user_id}",
    )


def notify(
    user_id: int, kind: str, text: str, url: str, *, actor_id: int | None = None, **params
) -> Notification | None:
    """Tell ``user_id`` something; nobody is notified of their own action, nor of a
    type they muted (None then)."""
    if (actor_id is not None and actor_id == user_id) or is_muted(user_id, kind):
        return None
    item = Notification(
        user_id=user_id, actor_id=actor_id, kind=kind, text=text[:300], url=url[:300], params=params
    )
    db.session.add(item)
    db.session.flush()
    _push(item)
    signals.notification_created.send(item)
    return item


def actors_phrase(names: list[str], count: int) -> str:
    """``alice``, ``alice and bob``, ``alice and 3 others`` (newest actor first)."""
    if count <= 1 or len(names) < 2:
        return names[0] if names else "Someone"
    if count == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} and {count - 1} others"


def group_text(
    names: list[str], actor_count: int, action: str, *, count: int = 1, counted: str | None = None
) -> str:
    """``alice and 3 others replied in …``; with ``counted`` (``new messages from``) and more
    than one event, the events are counted instead: ``3 new messages from bob``."""
    if counted is not None and count > 1:
        return f"{count} {counted} {actors_phrase(names, actor_count)}"[:300]
    return f"{actors_phrase(names, actor_count)} {action}"[:300]


def _open_group(user_id: int, kind: str, target: str) -> Notification | None:
    # The row lock (PostgreSQL) makes two merges into one group wait for each other.
    return db.session.scalars(
        select(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.kind == kind,
            Notification.target == target,
            Notification.read_at.is_(None),
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def notify_group(
    user_id: int,
    kind: str,
    action: str,
    url: str,
    *,
    actor: User,
    target: str,
    counted: str | None = None,
    **params,
) -> Notification | None:
    """Tell ``user_id`` that ``actor`` did ``action`` (``replied in “X”``) about
    ``target``: a new row, or the member's unread row of this kind and target gains the
    actor (named first), a count and the newest time; ``url`` stays the first unread
    event's. ``counted`` words a group of several events by their number instead
    (``group_text``). Sends ``notification_created`` only for a new row (one email per
    group). None for the actor themselves or a muted type.

    Two events at once meet on the open-group unique index (the loser of the insert
    merges into the winner's row, which it locks on PostgreSQL), so a group never splits
    nor loses a count."""
    if actor.id == user_id or is_muted(user_id, kind):
        return None
    item = _open_group(user_id, kind, target)
    if item is None:
        made = db.session.execute(
            insert_ignore(
                Notification,
                {
                    "user_id": user_id,
                    "actor_id": actor.id,
                    "kind": kind,
                    "text": group_text([actor.username], 1, action),
                    "url": url[:300],
                    "params": {**params, "action": action},
                    "target": target,
                    "actor_names": [actor.username],
                    "actor_count": 1,
                    "count": 1,
                    "created_at": now(),
                    "updated_at": now(),
                },
            ).returning(Notification.id)
        ).scalar()
        if made is not None:
            item = db.session.get(Notification, made)
            assert item is not None
            _push(item)
            signals.notification_created.send(item)
            return item
        item = _open_group(user_id, kind, target)  # a twin made it meanwhile
        if item is None:
            return None
    names = list(item.actor_names or [])
    if actor.username not in names:
        item.actor_count = item.actor_count + 1
    names = [actor.username] + [name for name in names if name != actor.username]
    item.actor_names = names[:ACTOR_NAMES_MAX]
    item.actor_id = actor.id
    item.count = item.count + 1
    item.params = {**(item.params or {}), **params, "action": action}
    item.text = group_text(
        item.actor_names, item.actor_count, action, count=item.count, counted=counted
    )
    item.updated_at = now()
    db.session.flush()
    _push(item)
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
    action: str | None = None,
    target: str | None = None,
) -> None:
    """Tell each member ``@named`` in ``mentions`` (``username_key``s, the first
    MENTIONS_MAX) once: nobody in ``told`` (which grows with each one told), nobody
    ``may_see`` refuses (never about a place they cannot open). With ``action`` and
    ``target`` the mention is grouped (``notify_group``)."""
    if not mentions:
        return
    users = db.session.scalars(select(User).where(User.username_key.in_(mentions[:MENTIONS_MAX])))
    for user in users:
        if user.id in told or (may_see is not None and not may_see(user)):
            continue
        if action is not None and target is not None:
            notify_group(user.id, kind, action, url, actor=author, target=target)
        else:
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
    """The member's notifications, the most recently added to first."""
    return newest_first(Notification.user_id, user_id, by=Notification.updated_at, limit=limit)


def _announce_count(user_id: int) -> None:
    realtime.announce(
        "notification_count", {"unread": unread_count(user_id)}, room=f"user:{user_id}"
    )


def mark_read(user_id: int, notification_id: int | None = None) -> None:
    """Mark one (or, with no id, every) notification of ``user_id`` as read; NotFound
    for an id that is not theirs."""
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        item = db.session.get(Notification, notification_id)
        if item is None or item.user_id != user_id:
            raise NotFound()
        query = query.where(Notification.id == notification_id)
    db.session.execute(query.values(read_at=now()).execution_options(synchronize_session=False))
    _announce_count(user_id)


def mark_seen(user_id: int, ids: list[int] | None = None, *, target: str | None = None) -> int:
    """The member saw these notifications (the bell's page listed them) or visited their
    ``target`` (``thread:12``): they are read. How many changed."""
    if not ids and target is None:
        return 0
    query = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    query = query.where(Notification.id.in_(ids)) if ids else query
    query = query.where(Notification.target == target) if target is not None else query
    changed = db.session.execute(
        query.values(read_at=now()).execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        _announce_count(user_id)
    return changed or 0


SEEN_MAX = 100  # ids in one "seen" beacon (the bell's page shows 50)


def parse_seen_ids(raw: list[str]) -> list[int]:
    """The ids of a "seen" beacon (form values); ValidationFailed unless 1..SEEN_MAX ids."""
    if not raw or len(raw) > SEEN_MAX or not all(v.isascii() and v.isdigit() for v in raw):
        raise ValidationFailed(
            "Send the ids of the notifications shown.",
            fields={"ids": [f"Use 1 to {SEEN_MAX} notification ids."]},
        )
    return sorted({int(v) for v in raw})


def see(user_id: int, ids: list[int]) -> int:
    """The bell's page showed ``ids`` to ``user_id`` (its beacon): they are read. NotFound,
    changing nothing, when any is not theirs; seeing again changes nothing (idempotent)."""
    owned = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.id.in_(ids))
    )
    if owned != len(set(ids)):
        raise NotFound()
    return mark_seen(user_id, ids)


def own_notification(user_id: int, notification_id: int) -> Notification:
    """``user_id``'s notification; NotFound for anyone else's (reading only)."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != user_id:
        raise NotFound()
    return item


def open_notification(user_id: int, notification_id: int) -> str:
    """Follow a notification (a POST): it is read; where it leads."""
    item = own_notification(user_id, notification_id)
    mark_seen(user_id, [item.id])
    return item.url


# --- in-app preferences per type ------------------------------------------------------


def in_app_settings(user_id: int) -> dict[str, bool]:
    """``{type: shown in the bell}`` for every type in ``TYPES``."""
    muted = set(
        db.session.scalars(select(NotificationMute.type).where(NotificationMute.user_id == user_id))
    )
    return {type_: type_ not in muted for type_ in TYPES}


def check_in_app(values: Any) -> dict[str, list[str]]:
    """The field errors of an ``{type: bool}`` change (empty when it is fine)."""
    if not isinstance(values, Mapping):
        return {"in_app": ["Use an object of type: true or false."]}
    errors: dict[str, list[str]] = {}
    for type_, shown in values.items():
        if type_ not in TYPES:
            errors[f"in_app.{type_}"] = [f"Unknown type; use {', '.join(TYPES)}."]
        elif not isinstance(shown, bool):
            errors[f"in_app.{type_}"] = ["Use true or false."]
    return errors


def set_in_app(user_id: int, values: Mapping[str, bool]) -> dict[str, bool]:
    """Show (True) or mute (False) types in the bell; the caller ran ``check_in_app``."""
    for type_, shown in values.items():
        if shown:
            db.session.execute(
                delete(NotificationMute).where(
                    NotificationMute.user_id == user_id, NotificationMute.type == type_
                )
            )
        else:
            db.session.execute(
                insert_ignore(
                    NotificationMute, {"user_id": user_id, "type": type_, "created_at": now()}
                )
            )
    return in_app_settings(user_id)


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
