"""Rooms: public, private and direct ones, their members, inviting and removing."""

import re
import secrets

from flask import url_for
from sqlalchemy import and_, bindparam, delete, func, select

from ... import realtime
from ...accounts.models import User
from ...clock import now
from ...database import transaction_memo
from ...errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ...extensions import db
from ...notifications import service as notifications
from ...permissions import check_member
from ...trust import service as trust
from ..models import ChatConnection, ChatMember, ChatPresence, ChatRoom
from .common import (
    ANY_SLUG_RE,
    DIRECT_PREFIX,
    NAME_MAX,
    NAMESPACE,
    PRIVATE_MEMBERS_MAX,
    PUBLIC_ROOMS_CHANNEL,
    add_member,
    can_moderate,
    check_name,
    check_slug,
    check_topic,
    insert_ignore,
    is_user,
    may_read,
    membership,
)
from .presence import (
    announce_presence,
    online_ids,
)

# Every socket event names its room: built once (see messages.py on prebuilt statements).
_ROOM_BY_SLUG = select(ChatRoom).where(ChatRoom.slug == bindparam("slug"))
_ROOM_AND_MEMBERSHIP = (
    select(ChatRoom, ChatMember)
    .outerjoin(
        ChatMember,
        and_(ChatMember.room_id == ChatRoom.id, ChatMember.user_id == bindparam("user_id")),
    )
    .where(ChatRoom.slug == bindparam("slug"))
)


def find_room(slug) -> ChatRoom | None:
    if not isinstance(slug, str) or not ANY_SLUG_RE.match(slug):
        return None
    return db.session.scalar(_ROOM_BY_SLUG, {"slug": slug})


def get_room(slug, viewer) -> ChatRoom:
    """The room ``viewer`` may read, else NotFound (also for private rooms they are not in).

    A member's room comes with their membership in the same statement: the checks that
    follow (``membership``) find it in the session's identity map instead of asking again."""
    if not is_user(viewer):
        raise NotFound("No such room.")
    if not isinstance(slug, str) or not ANY_SLUG_RE.match(slug):
        raise NotFound("No such room.")
    row = db.session.execute(_ROOM_AND_MEMBERSHIP, {"slug": slug, "user_id": viewer.id}).first()
    if row is None or not may_read(viewer, row.ChatRoom, row.ChatMember):
        raise NotFound("No such room.")
    if row.ChatMember is not None:
        # The identity map holds objects weakly: keep this one for the transaction.
        transaction_memo(db.session)[("chat.member", row.ChatRoom.id, viewer.id)] = row.ChatMember
    return row.ChatRoom


def create_public_room(actor: User, slug, name, topic="") -> ChatRoom:
    """A room listed for everyone. Moderators and admins only; Conflict(slug_taken)."""
    if not can_moderate(actor):
        raise Forbidden("Only moderators create public rooms.")
    slug, name, topic = _all_valid((check_slug, slug), (check_name, name), (check_topic, topic))
    if find_room(slug) is not None:
        raise Conflict(
            "That room name is taken.",
            code="slug_taken",
            fields={"slug": ["That room name is taken."]},
        )
    room = ChatRoom(slug=slug, name=name, topic=topic, kind="public", created_by_id=actor.id)
    db.session.add(room)
    db.session.flush()
    insert_ignore(
        ChatMember, room_id=room.id, user_id=actor.id, role="owner", last_read_id=0, joined_at=now()
    )
    realtime.announce(
        "room_created",
        {"room": room.slug, "name": room.name, "kind": "public"},
        room=PUBLIC_ROOMS_CHANNEL,
        namespace=NAMESPACE,
    )
    return room


def _all_valid(*checks) -> list:
    """Run every check; one ValidationFailed naming every bad field, else the cleaned values."""
    values, errors = [], {}
    for check, value in checks:
        try:
            values.append(check(value))
        except ValidationFailed as err:
            errors.update(err.fields)
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    return values


def _slug_for_private(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:36].strip("-") or "room"
    return f"{base}-{secrets.token_hex(3)}"


def find_user(username) -> User:
    """The member called ``username`` (a leading @ is fine); NotFound for anything else."""
    from ...accounts.service import USERNAME_RE, get_by_username

    name = username.strip().lstrip("@") if isinstance(username, str) else ""
    if not USERNAME_RE.match(name):
        raise NotFound("No such member.")
    return get_by_username(name)


def _users_by_name(usernames, *, field_name: str) -> list[User]:
    from ...accounts.service import USERNAME_RE, username_key

    keys = []
    for name in usernames:
        if not isinstance(name, str) or not name.strip():
            continue
        name = name.strip().lstrip("@")
        if not USERNAME_RE.match(name):
            raise field_error(field_name, f"No member called {name[:32]!r}.")
        keys.append(username_key(name))
    keys = list(dict.fromkeys(keys))
    if len(keys) > PRIVATE_MEMBERS_MAX:
        raise field_error(field_name, f"Invite at most {PRIVATE_MEMBERS_MAX} members at once.")
    users = (
        list(db.session.scalars(select(User).where(User.username_key.in_(keys)))) if keys else []
    )
    missing = sorted(set(keys) - {user.username_key for user in users})
    if missing:
        raise field_error(field_name, f"No member called {', '.join(missing[:5])}.")
    return users


def create_private_room(actor: User, name, members=(), topic="") -> ChatRoom:
    """A room only its members see; ``actor`` owns it and ``members`` (usernames) are added."""
    check_member(actor)
    trust.check_create_room(actor)
    name, topic = _all_valid((check_name, name), (check_topic, topic))
    invited = [
        user for user in _users_by_name(members, field_name="members") if user.id != actor.id
    ]
    room = ChatRoom(
        slug=_slug_for_private(name), name=name, topic=topic, kind="private", created_by_id=actor.id
    )
    db.session.add(room)
    db.session.flush()
    at = now()
    db.session.add(ChatMember(room_id=room.id, user_id=actor.id, role="owner", joined_at=at))
    for user in invited:
        db.session.add(ChatMember(room_id=room.id, user_id=user.id, role="member", joined_at=at))
    db.session.flush()
    for user in invited:
        _tell_added(actor, room, user)
    return room


def _direct_slug(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{DIRECT_PREFIX}{low}-{high}"


def open_direct(user: User, other: User) -> ChatRoom:
    """The one direct room of these two members, created on first use."""
    check_member(user)
    trust.check_direct_message(user)
    if other.id == user.id:
        raise field_error("username", "Choose someone other than yourself.")
    slug = _direct_slug(user.id, other.id)
    room = find_room(slug)
    if room is not None:
        return room
    name = " & ".join(sorted((user.username, other.username), key=str.casefold))[:NAME_MAX]
    values = {
        "slug": slug,
        "name": name,
        "topic": "",
        "kind": "direct",
        "created_by_id": user.id,
        "message_seq": 0,
        "created_at": now(),
    }
    # Two members opening it at once: the unique slug keeps one row; both then use it.
    insert_ignore(ChatRoom, **values)
    room = find_room(slug)
    at = now()
    for member in (user, other):
        add_member(room, member.id, at)
    realtime.announce(
        "room_added", {"room": room.slug}, room=f"user:{other.id}", namespace=NAMESPACE
    )
    return room


def room_members(room: ChatRoom) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(ChatMember, ChatMember.user_id == User.id)
            .where(ChatMember.room_id == room.id)
            .order_by(User.username_key)
        )
    )


def can_manage_members(actor, room: ChatRoom) -> bool:
    if room.kind != "private" or not is_user(actor):
        return False
    member = membership(room, actor)
    return member is not None and (member.role == "owner" or actor.is_moderator)


def invite(actor: User, room: ChatRoom, username) -> User:
    """Add a member to a private room (its owner, or a moderator who is in it)."""
    if not may_read(actor, room):
        raise NotFound("No such room.")
    if not can_manage_members(actor, room):
        raise Forbidden("Only the room's owner can add members.")
    if not isinstance(username, str) or not username.strip():
        raise field_error("username", "Name a member to add.")
    (user,) = _users_by_name([username], field_name="username")
    if membership(room, user) is not None:
        raise Conflict(
            f"{user.username} is already in this room.",
            code="already_member",
            fields={"username": [f"{user.username} is already in this room."]},
        )
    db.session.add(ChatMember(room_id=room.id, user_id=user.id, role="member", joined_at=now()))
    db.session.flush()
    _tell_added(actor, room, user)
    return user


def _tell_added(actor: User, room: ChatRoom, user: User) -> None:
    notifications.notify(
        user.id,
        "chat_invite",
        f"{actor.username} added you to the chat room “{room.name}”",
        url_for("chat.room", slug=room.slug),
        actor_id=actor.id,
    )
    realtime.announce(
        "room_added", {"room": room.slug}, room=f"user:{user.id}", namespace=NAMESPACE
    )


def remove_member(actor: User, room: ChatRoom, user: User) -> None:
    """Take ``user`` out of a private room: owner/moderator, or the user leaving.

    Their open sockets leave the room's channel after the commit, so they stop
    receiving its messages at once.
    """
    if not may_read(actor, room):
        raise NotFound("No such room.")
    if room.is_direct:
        raise Forbidden("You cannot leave a direct conversation.")
    if actor.id != user.id and not can_manage_members(actor, room):
        raise Forbidden("Only the room's owner can remove members.")
    member = membership(room, user)
    if member is None:
        raise NotFound("That member is not in this room.")
    if member.role == "owner" and room.kind == "private" and actor.id == user.id:
        others = db.session.scalar(
            select(func.count())
            .select_from(ChatMember)
            .where(ChatMember.room_id == room.id, ChatMember.user_id != user.id)
        )
        if others:
            # Hand the room on rather than leaving it without an owner.
            heir = db.session.scalar(
                select(ChatMember)
                .where(ChatMember.room_id == room.id, ChatMember.user_id != user.id)
                .order_by(ChatMember.joined_at, ChatMember.user_id)
                .limit(1)
            )
            heir.role = "owner"
    was_online = online_ids(room, [user.id])
    db.session.delete(member)
    if room.kind != "public":
        sids = list(
            db.session.scalars(select(ChatConnection.sid).where(ChatConnection.user_id == user.id))
        )
        db.session.execute(
            delete(ChatPresence).where(ChatPresence.room_id == room.id, ChatPresence.sid.in_(sids))
        )
        realtime.leave_room(sids, room.channel, namespace=NAMESPACE)
        realtime.announce(
            "room_removed", {"room": room.slug}, room=f"user:{user.id}", namespace=NAMESPACE
        )
        if was_online:
            announce_presence(room, user, online=False)
    db.session.flush()
