"""Chat rules: rooms, membership, messages, moderation, presence.

Every write goes through here, whichever door it came in by (socket event, API,
page, CLI, demo). Checks come first and raise ``forum.errors`` before anything is
written; live events are queued with ``realtime.announce`` and leave only after
the commit.

Ordering: taking a message's ``seq`` is ``UPDATE chat_rooms SET message_seq =
message_seq + 1 ... RETURNING``, which holds the room row's lock until commit, so
writers of one room are serialised and ``id``/``seq`` grow in commit order within a
room. Clients order by id and treat a seq jump as "I missed something: resync".

Access: a public room is readable and writable by every logged-in member who is
not suspended or muted there; a private or direct room only by its members. A room
the viewer may not read does not exist for them (``NotFound``), so a refusal never
reveals a private room.
"""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import and_, delete, event, func, or_, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .. import markup, ratelimit, realtime
from ..accounts.models import User
from ..clock import now
from ..database import insert_ignore
from ..errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed, field_error
from ..extensions import db
from ..notifications import service as notifications
from ..schemas import MAX_DB_INT
from .models import ChatConnection, ChatMember, ChatMessage, ChatPresence, ChatRoom
from .schemas import dump_author, dump_message

NAMESPACE = "/chat"
PUBLIC_ROOMS_CHANNEL = "rooms:public"  # every /chat socket: new public rooms appear in sidebars
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ANY_SLUG_RE = re.compile(r"^[a-z0-9-]{1,64}$")  # every room's slug (public, private, direct)
# C0 control characters but tab and newline: invisible, and PostgreSQL refuses NUL.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
RESERVED_SLUGS = {"new", "dm", "api", "static"}
DIRECT_PREFIX = "dm-"
NAME_MIN, NAME_MAX = 2, 80
TOPIC_MAX = 200
NONCE_MAX = 64
HISTORY_PAGE = 50
SYNC_PAGE = 200
MUTE_MAX_MINUTES = 7 * 24 * 60
PRIVATE_MEMBERS_MAX = 50
MENTIONS_MAX = 20
DEFAULT_PRESENCE_TTL = 90  # seconds; clients send a heartbeat every 30 s


@dataclass
class Page:
    items: list
    next_cursor: str | None


@dataclass
class RoomEntry:
    """A room as one viewer's sidebar shows it."""

    room: ChatRoom
    name: str
    unread: int = 0
    joined: bool = False
    other: User | None = None  # direct rooms: the other member


@dataclass
class SocketHooks:
    """Socket-level actions installed by ``forum.chat.sockets`` (no-ops without it).

    ``leave(sids, channel)`` takes sockets out of a room's channel and
    ``disconnect(sids)`` closes sockets, in whichever process holds them (the
    Socket.IO message queue carries the request). They run after the commit.
    """

    leave: Callable[[list[str], str], None] = lambda sids, channel: None
    disconnect: Callable[[list[str]], None] = lambda sids: None


socket_hooks = SocketHooks()
_AFTER_COMMIT_KEY = "plaza_chat_after_commit"


def _after_commit(action: Callable[[], None]) -> None:
    db.session.info.setdefault(_AFTER_COMMIT_KEY, []).append(action)


def _run_after_commit(session: Session) -> None:
    for action in session.info.pop(_AFTER_COMMIT_KEY, None) or ():
        action()


def _drop_after_rollback(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_AFTER_COMMIT_KEY, None)


event.listen(Session, "after_commit", _run_after_commit)
event.listen(
    Session, "after_soft_rollback", lambda session, previous: _drop_after_rollback(session)
)


# --- small SQL helpers --------------------------------------------------------------


def _insert_ignore(model, **values) -> None:
    """INSERT, doing nothing when a row with the same key (primary or unique) exists; both engines."""
    db.session.execute(insert_ignore(model, values))


def _presence_ttl() -> timedelta:
    return timedelta(
        seconds=int(current_app.config.get("CHAT_PRESENCE_TTL_SECONDS", DEFAULT_PRESENCE_TTL))
    )


# --- checks ---------------------------------------------------------------------------


def is_user(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def can_moderate(user) -> bool:
    return is_user(user) and user.is_moderator


def membership(room: ChatRoom, user) -> ChatMember | None:
    if not is_user(user):
        return None
    return db.session.get(ChatMember, (room.id, user.id))


_UNKNOWN = object()


def may_read(user, room: ChatRoom, member=_UNKNOWN) -> bool:
    if not is_user(user):
        return False
    if room.is_public:
        return True
    if member is _UNKNOWN:
        member = membership(room, user)
    return member is not None


def clean_text(value: str) -> str:
    return CONTROL_RE.sub("", value.replace("\r\n", "\n"))


def check_body(body) -> str:
    """The message text, or ValidationFailed (code ``empty`` / ``too_long``, field ``body``)."""
    body = clean_text(body) if isinstance(body, str) else body
    if not isinstance(body, str) or not body.strip():
        raise field_error("body", "Write a message first.", code="empty")
    limit = current_app.config["CHAT_MAX_MESSAGE_LENGTH"]
    if len(body) > limit:
        raise field_error(
            "body",
            f"Messages can be at most {limit:,} characters; this one has {len(body):,}.",
            code="too_long",
        )
    return body


def check_nonce(nonce) -> str | None:
    if nonce is None or nonce == "":
        return None
    if not isinstance(nonce, str) or len(nonce) > NONCE_MAX or not nonce.isprintable():
        raise field_error("nonce", f"Use at most {NONCE_MAX} printable characters.")
    return nonce


def check_can_write(user, room: ChatRoom, member=_UNKNOWN) -> None:
    """Raise unless ``user`` may post in ``room`` now (NotFound, suspended, muted)."""
    if member is _UNKNOWN:
        member = membership(room, user)
    if not may_read(user, room, member):
        raise NotFound("No such room.")
    if user.is_suspended:
        raise Forbidden("Your account is suspended.", code="suspended")
    if member is not None and member.is_muted:
        until = member.muted_until.strftime("%H:%M UTC")
        raise Forbidden(f"A moderator muted you in this room until {until}.", code="muted")


def check_send_rate(user: User) -> None:
    """Count one message against ``CHAT_MESSAGE_LIMIT`` or raise RateLimited saying how long to wait."""
    spec = current_app.config["CHAT_MESSAGE_LIMIT"]
    if ratelimit.allowed(spec, "chat-message", user.id):
        ratelimit.record(spec, "chat-message", user.id)
        return
    wait = ratelimit.seconds_until_room(spec, "chat-message", user.id)
    raise RateLimited(
        f"You are sending messages too fast (at most {spec.replace('/', ' per ')}). Wait {wait} s and try again."
    )


def check_slug(slug) -> str:
    slug = slug.strip().lower() if isinstance(slug, str) else ""
    if not (2 <= len(slug) <= 48 and SLUG_RE.match(slug)):
        raise field_error("slug", "Use 2-48 lowercase letters, digits and single dashes.")
    if slug in RESERVED_SLUGS or slug.startswith(DIRECT_PREFIX):
        raise field_error("slug", "That name is reserved; choose another.")
    return slug


def check_name(name) -> str:
    name = " ".join(clean_text(name).split()) if isinstance(name, str) else ""
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise field_error("name", f"Use {NAME_MIN}-{NAME_MAX} characters.")
    return name


def check_topic(topic) -> str:
    topic = " ".join(clean_text(topic).split()) if isinstance(topic, str) else ""
    if len(topic) > TOPIC_MAX:
        raise field_error("topic", f"Keep it under {TOPIC_MAX} characters.")
    return topic


def parse_message_id(raw, field_name: str = "before") -> int | None:
    """A message id from a query string or event (None when absent); 422 when malformed."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise field_error(field_name, "Use a message id.")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        value = int(raw)
    else:
        raise field_error(field_name, "Use a message id.")
    if value < 0 or value > MAX_DB_INT:
        raise field_error(field_name, "Use a message id.")
    return value


# --- rooms ------------------------------------------------------------------------------


def find_room(slug) -> ChatRoom | None:
    if not isinstance(slug, str) or not ANY_SLUG_RE.match(slug):
        return None
    return db.session.scalar(select(ChatRoom).where(ChatRoom.slug == slug))


def get_room(slug, viewer) -> ChatRoom:
    """The room ``viewer`` may read, else NotFound (also for private rooms they are not in)."""
    room = find_room(slug)
    if room is None or not may_read(viewer, room):
        raise NotFound("No such room.")
    return room


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
    _insert_ignore(
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
    from ..accounts.service import USERNAME_RE, get_by_username

    name = username.strip().lstrip("@") if isinstance(username, str) else ""
    if not USERNAME_RE.match(name):
        raise NotFound("No such member.")
    return get_by_username(name)


def _users_by_name(usernames, *, field_name: str) -> list[User]:
    from ..accounts.service import USERNAME_RE, username_key

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
    if not is_user(actor) or actor.is_suspended:
        raise Forbidden("Your account is suspended.", code="suspended")
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
    if not is_user(user) or user.is_suspended:
        raise Forbidden("Your account is suspended.", code="suspended")
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
    _insert_ignore(ChatRoom, **values)
    room = find_room(slug)
    at = now()
    for member in (user, other):
        _insert_ignore(
            ChatMember,
            room_id=room.id,
            user_id=member.id,
            role="member",
            last_read_id=0,
            joined_at=at,
        )
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
    was_online = _online_ids(room, [user.id])
    db.session.delete(member)
    if room.kind != "public":
        sids = list(
            db.session.scalars(select(ChatConnection.sid).where(ChatConnection.user_id == user.id))
        )
        db.session.execute(
            delete(ChatPresence).where(ChatPresence.room_id == room.id, ChatPresence.sid.in_(sids))
        )
        channel = room.channel
        _after_commit(lambda: socket_hooks.leave(sids, channel))
        realtime.announce(
            "room_removed", {"room": room.slug}, room=f"user:{user.id}", namespace=NAMESPACE
        )
        if was_online:
            _announce_presence(room, user, online=False)
    db.session.flush()


# --- sidebar and unread counts ----------------------------------------------------------


def unread_counts(user: User) -> dict[int, int]:
    """Unread messages per room the user belongs to (not their own, not deleted)."""
    rows = db.session.execute(
        select(ChatMember.room_id, func.count(ChatMessage.id))
        .join(
            ChatMessage,
            and_(
                ChatMessage.room_id == ChatMember.room_id, ChatMessage.id > ChatMember.last_read_id
            ),
        )
        .where(
            ChatMember.user_id == user.id,
            ChatMessage.deleted_at.is_(None),
            ChatMessage.author_id != user.id,
        )
        .group_by(ChatMember.room_id)
    )
    return {room_id: count for room_id, count in rows}


def unread_count(user: User, room: ChatRoom) -> int:
    member = membership(room, user)
    if member is None:
        return 0
    return (
        db.session.scalar(
            select(func.count(ChatMessage.id)).where(
                ChatMessage.room_id == room.id,
                ChatMessage.id > member.last_read_id,
                ChatMessage.deleted_at.is_(None),
                ChatMessage.author_id != user.id,
            )
        )
        or 0
    )


def rooms_for(user: User) -> list[RoomEntry]:
    """Public rooms (by name), then the user's private rooms and direct conversations (latest first)."""
    joined = {
        m.room_id: m
        for m in db.session.scalars(select(ChatMember).where(ChatMember.user_id == user.id))
    }
    unread = unread_counts(user)
    rooms = list(
        db.session.scalars(
            select(ChatRoom).where(
                or_(ChatRoom.kind == "public", ChatRoom.id.in_(list(joined) or [0]))
            )
        )
    )
    direct_ids = [room.id for room in rooms if room.is_direct]
    others: dict[int, User] = {}
    if direct_ids:
        for room_id, other in db.session.execute(
            select(ChatMember.room_id, User)
            .join(User, User.id == ChatMember.user_id)
            .where(ChatMember.room_id.in_(direct_ids), ChatMember.user_id != user.id)
        ):
            others[room_id] = other
    entries = []
    for room in rooms:
        other = others.get(room.id)
        name = other.username if (room.is_direct and other) else room.name
        entries.append(RoomEntry(room, name, unread.get(room.id, 0), room.id in joined, other))
    order = {"public": 0, "private": 1, "direct": 2}
    epoch = datetime.min.replace(tzinfo=now().tzinfo)

    def key(entry: RoomEntry):
        room = entry.room
        if room.is_public:
            return (0, entry.name.casefold(), 0.0)
        return (
            order[room.kind],
            "",
            -(room.last_message_at or room.created_at or epoch).timestamp(),
        )

    return sorted(entries, key=key)


def join(user: User, room: ChatRoom) -> ChatMember:
    """Membership of a room the user may read; joining a public room records it."""
    member = membership(room, user)
    if member is None:
        if not room.is_public:
            raise NotFound("No such room.")
        _insert_ignore(
            ChatMember,
            room_id=room.id,
            user_id=user.id,
            role="member",
            last_read_id=0,
            joined_at=now(),
        )
        member = membership(room, user)
    return member


def mark_read(user: User, room: ChatRoom, message_id: int | None = None) -> int:
    """Move the read position forward (never back); returns the room's unread count after."""
    member = membership(room, user)
    if member is None:
        return 0
    latest = room.last_message_id or 0
    upto = latest if message_id is None else min(message_id, latest)
    moved = db.session.execute(
        update(ChatMember)
        .where(
            ChatMember.room_id == room.id,
            ChatMember.user_id == user.id,
            ChatMember.last_read_id < upto,
        )
        .values(last_read_id=upto)
    ).rowcount
    if moved:
        realtime.announce(
            "read",
            {"room": room.slug, "last_read_id": upto},
            room=f"user:{user.id}",
            namespace=NAMESPACE,
        )
    return unread_count(user, room)


# --- messages ---------------------------------------------------------------------------


def send_message(author: User, room: ChatRoom, body, *, nonce=None) -> ChatMessage:
    """Store a message and queue its ``message`` event for everyone in the room.

    Raises NotFound (room not readable), Forbidden (suspended, muted), ValidationFailed
    (empty, too long), RateLimited. With a ``nonce`` already used by this author in
    this room, returns that message and stores nothing (a resend after a lost ack).
    """
    body = check_body(body)
    nonce = check_nonce(nonce)
    member = membership(room, author)
    check_can_write(author, room, member)
    if nonce is not None:
        # Take the room's lock first so a concurrent resend sees the committed original.
        db.session.execute(
            update(ChatRoom).where(ChatRoom.id == room.id).values(message_seq=ChatRoom.message_seq)
        )
        existing = db.session.scalar(
            select(ChatMessage).where(
                ChatMessage.author_id == author.id, ChatMessage.nonce == nonce
            )
        )
        if existing is not None:
            if existing.room_id != room.id:
                raise Conflict(
                    "That nonce was used for another message.",
                    code="duplicate_nonce",
                    fields={"nonce": ["Use a new nonce for each message."]},
                )
            return existing
    check_send_rate(author)
    rendered = markup.render(body)
    at = now()
    seq = db.session.execute(
        update(ChatRoom)
        .where(ChatRoom.id == room.id)
        .values(message_seq=ChatRoom.message_seq + 1)
        .returning(ChatRoom.message_seq)
    ).scalar_one()
    message = ChatMessage(
        room_id=room.id,
        seq=seq,
        author_id=author.id,
        nonce=nonce,
        body=body,
        body_html=rendered.html,
        embeds=[ref.key for ref in rendered.embeds],
        created_at=at,
    )
    db.session.add(message)
    db.session.flush()
    db.session.execute(
        update(ChatRoom)
        .where(ChatRoom.id == room.id)
        .values(last_message_id=message.id, last_message_at=at)
    )
    if member is not None:
        db.session.execute(
            update(ChatMember)
            .where(
                ChatMember.room_id == room.id,
                ChatMember.user_id == author.id,
                ChatMember.last_read_id < message.id,
            )
            .values(last_read_id=message.id)
        )
    # The row now holds these (set in SQL above); no need to read it back.
    for name, value in (
        ("message_seq", seq),
        ("last_message_id", message.id),
        ("last_message_at", at),
    ):
        set_committed_value(room, name, value)
    message.author = author
    _notify_for_message(author, room, message, rendered.mentions)
    realtime.announce(
        "message", dump_message(message, room.slug), room=room.channel, namespace=NAMESPACE
    )
    return message


def _room_label(room: ChatRoom) -> str:
    return "a direct message" if room.is_direct else f"#{room.name}"


def message_url(room: ChatRoom, message: ChatMessage) -> str:
    return url_for("chat.room", slug=room.slug, _anchor=f"m-{message.id}")


def _notify_for_message(
    author: User, room: ChatRoom, message: ChatMessage, mentions: list[str]
) -> None:
    told = {author.id}
    url = message_url(room, message)
    if mentions:
        users = db.session.scalars(
            select(User).where(User.username_key.in_(mentions[:MENTIONS_MAX]))
        )
        for user in users:
            if user.id in told or not may_read(user, room):
                continue  # never tell someone about a room they cannot open
            notifications.notify(
                user.id,
                "chat_mention",
                f"{author.username} mentioned you in {_room_label(room)}",
                url,
                actor_id=author.id,
            )
            told.add(user.id)
    if room.is_direct:
        # The other member hears about it unless they are looking at the conversation.
        for other_id in db.session.scalars(
            select(ChatMember.user_id).where(
                ChatMember.room_id == room.id, ChatMember.user_id.not_in(told)
            )
        ):
            if not _online_ids(room, [other_id]):
                notifications.notify(
                    other_id,
                    "chat_direct",
                    f"{author.username} sent you a direct message",
                    url,
                    actor_id=author.id,
                )


def get_message(message_id, viewer) -> ChatMessage:
    """A message ``viewer`` may read; NotFound when missing, deleted or in a room they cannot see."""
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise NotFound("No such message.")
    message = db.session.get(ChatMessage, message_id)
    if message is None or message.is_deleted or not may_read(viewer, message.room):
        raise NotFound("No such message.")
    return message


def history(room: ChatRoom, *, before: int | None = None, limit: int = HISTORY_PAGE) -> Page:
    """Messages newest first, older than ``before``; ``next_cursor`` is the id to ask before next."""
    query = (
        select(ChatMessage)
        .options(joinedload(ChatMessage.author))
        .where(ChatMessage.room_id == room.id, ChatMessage.deleted_at.is_(None))
        .order_by(ChatMessage.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        query = query.where(ChatMessage.id < before)
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, str(rows[-1].id) if more and rows else None)


def messages_after(
    room: ChatRoom, after: int, *, limit: int | None = None
) -> tuple[list[ChatMessage], bool]:
    """Resync: messages with id > ``after``, oldest first, and whether more remain."""
    limit = limit or SYNC_PAGE
    rows = list(
        db.session.scalars(
            select(ChatMessage)
            .options(joinedload(ChatMessage.author))
            .where(
                ChatMessage.room_id == room.id,
                ChatMessage.id > after,
                ChatMessage.deleted_at.is_(None),
            )
            .order_by(ChatMessage.id)
            .limit(limit + 1)
        )
    )
    return rows[:limit], len(rows) > limit


def deleted_between(room: ChatRoom, first: int, last: int) -> list[int]:
    """Ids in [first, last] deleted meanwhile: a reconnecting client removes them."""
    if first > last:
        return []
    return list(
        db.session.scalars(
            select(ChatMessage.id)
            .where(
                ChatMessage.room_id == room.id,
                ChatMessage.id >= first,
                ChatMessage.id <= last,
                ChatMessage.deleted_at.is_not(None),
            )
            .order_by(ChatMessage.id)
            .limit(1000)
        )
    )


def delete_message(actor: User, message: ChatMessage) -> None:
    """Soft-delete; the author or a moderator. A moderator's delete goes in the audit log."""
    room = message.room
    if message.is_deleted or not may_read(actor, room):
        raise NotFound("No such message.")
    if actor.id != message.author_id and not can_moderate(actor):
        raise Forbidden("Only the author or a moderator can delete this message.")
    message.deleted_at = now()
    message.deleted_by_id = actor.id
    if actor.id != message.author_id:
        from ..moderation import service as moderation

        moderation.record(
            actor,
            "chat.message.delete",
            "chat_message",
            message.id,
            room=room.slug,
            author_id=message.author_id,
        )
    realtime.announce(
        "message_deleted",
        {"id": message.id, "room": room.slug},
        room=room.channel,
        namespace=NAMESPACE,
    )


# --- moderation -------------------------------------------------------------------------


def mute(actor: User, room: ChatRoom, user: User, minutes, reason: str = "") -> datetime:
    """Stop ``user`` posting in ``room`` for ``minutes``; returns when it ends. Audited."""
    if not can_moderate(actor):
        raise Forbidden("Only moderators can mute members.")
    if not may_read(actor, room):
        raise NotFound("No such room.")
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not 1 <= minutes <= MUTE_MAX_MINUTES
    ):
        raise field_error("minutes", f"Use 1 to {MUTE_MAX_MINUTES} minutes.")
    if user.id == actor.id:
        raise field_error("username", "You cannot mute yourself.")
    if user.is_moderator and not actor.is_admin:
        raise Forbidden("Only admins can mute moderators.")
    if not may_read(user, room):
        raise NotFound("That member is not in this room.")
    reason = clean_text(reason)[:200] if isinstance(reason, str) else ""
    until = now() + timedelta(minutes=minutes)
    _insert_ignore(
        ChatMember, room_id=room.id, user_id=user.id, role="member", last_read_id=0, joined_at=now()
    )
    db.session.execute(
        update(ChatMember)
        .where(ChatMember.room_id == room.id, ChatMember.user_id == user.id)
        .values(muted_until=until, muted_by_id=actor.id)
    )
    from ..moderation import service as moderation

    moderation.record(
        actor,
        "chat.mute",
        "user",
        user.id,
        room=room.slug,
        minutes=minutes,
        until=until.isoformat(),
        reason=reason,
    )
    realtime.announce(
        "muted",
        {"room": room.slug, "user": dump_author(user), "until": until.isoformat()},
        room=room.channel,
        namespace=NAMESPACE,
    )
    return until


def unmute(actor: User, room: ChatRoom, user: User) -> None:
    if not can_moderate(actor):
        raise Forbidden("Only moderators can unmute members.")
    if not may_read(actor, room):
        raise NotFound("No such room.")
    member = membership(room, user)
    if member is None or not member.is_muted:
        raise Conflict(f"{user.username} is not muted here.", code="not_muted")
    member.muted_until = None
    member.muted_by_id = None
    from ..moderation import service as moderation

    moderation.record(actor, "chat.unmute", "user", user.id, room=room.slug)
    realtime.announce(
        "muted",
        {"room": room.slug, "user": dump_author(user), "until": None},
        room=room.channel,
        namespace=NAMESPACE,
    )


# --- connections and presence -----------------------------------------------------------


def register_connection(sid: str, user: User) -> None:
    at = now()
    _insert_ignore(
        ChatConnection,
        sid=sid,
        user_id=user.id,
        session_version=user.session_version,
        connected_at=at,
        seen_at=at,
    )


def touch_connection(sid: str, user: User) -> bool:
    """Refresh a socket's heartbeat; False when its entry had expired (the client should rejoin)."""
    touched = db.session.execute(
        update(ChatConnection).where(ChatConnection.sid == sid).values(seen_at=now())
    ).rowcount
    if not touched:
        register_connection(sid, user)
    return bool(touched)


def _online_ids(room: ChatRoom, user_ids: list[int] | None = None) -> set[int]:
    query = (
        select(ChatConnection.user_id)
        .distinct()
        .join(ChatPresence, ChatPresence.sid == ChatConnection.sid)
        .where(ChatPresence.room_id == room.id, ChatConnection.seen_at > now() - _presence_ttl())
    )
    if user_ids is not None:
        query = query.where(ChatConnection.user_id.in_(user_ids))
    return set(db.session.scalars(query))


def online_users(room: ChatRoom) -> list[User]:
    ids = _online_ids(room)
    if not ids:
        return []
    return list(
        db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.username_key))
    )


def _announce_presence(room: ChatRoom, user: User, *, online: bool) -> None:
    realtime.announce(
        "presence",
        {"room": room.slug, "user": dump_author(user), "online": online},
        room=room.channel,
        namespace=NAMESPACE,
    )


def enter(sid: str, user: User, room: ChatRoom) -> None:
    """Socket ``sid`` joined ``room``: its user is online there (announced on the first socket)."""
    was_online = bool(_online_ids(room, [user.id]))
    register_connection(sid, user)
    _insert_ignore(ChatPresence, sid=sid, room_id=room.id)
    if not was_online:
        _announce_presence(room, user, online=True)


def exit_room(sid: str, user: User, room: ChatRoom) -> None:
    db.session.execute(
        delete(ChatPresence).where(ChatPresence.sid == sid, ChatPresence.room_id == room.id)
    )
    if not _online_ids(room, [user.id]):
        _announce_presence(room, user, online=False)


def _drop(sids: list[str]) -> int:
    """Forget these sockets; announce who went offline where. Returns how many were known."""
    if not sids:
        return 0
    rows = db.session.execute(
        select(ChatConnection.user_id, ChatPresence.room_id)
        .join(ChatPresence, ChatPresence.sid == ChatConnection.sid)
        .where(ChatConnection.sid.in_(sids))
    ).all()
    db.session.execute(delete(ChatPresence).where(ChatPresence.sid.in_(sids)))
    dropped = db.session.execute(
        delete(ChatConnection).where(ChatConnection.sid.in_(sids))
    ).rowcount
    for user_id, room_id in set(rows):
        room = db.session.get(ChatRoom, room_id)
        user = db.session.get(User, user_id)
        if room is not None and user is not None and not _online_ids(room, [user_id]):
            _announce_presence(room, user, online=False)
    return dropped


def drop_connection(sid: str) -> None:
    """The socket closed."""
    _drop([sid])


def sockets_of(user_id: int) -> list[str]:
    return list(
        db.session.scalars(select(ChatConnection.sid).where(ChatConnection.user_id == user_id))
    )


def sweep_connections() -> int:
    """Close sockets whose session ended (logout everywhere, password change, suspension)
    and forget sockets not heard from within the presence TTL (their process died or
    the client stopped its heartbeat). Idempotent; returns how many were swept."""
    at = now()
    ended = list(
        db.session.scalars(
            select(ChatConnection.sid)
            .join(User, User.id == ChatConnection.user_id)
            .where(
                or_(
                    User.session_version != ChatConnection.session_version,
                    User.suspended_until > at,
                )
            )
        )
    )
    silent = list(
        db.session.scalars(
            select(ChatConnection.sid).where(ChatConnection.seen_at <= at - _presence_ttl())
        )
    )
    doomed = list(dict.fromkeys(ended + silent))
    count = _drop(doomed)
    if doomed:
        _after_commit(lambda: socket_hooks.disconnect(doomed))
    return count


# --- for other features' reports -------------------------------------------------------

EMBED_TOKEN_RE = re.compile(r"\[\[[a-z]+:\d+\]\]")
PRIVATE_MESSAGE_LABEL = "A message in a private chat"


def describe_messages(message_ids, viewer=None) -> dict[int, str]:
    """A name per message for reports (attribution): "#room: the start of the message".

    Chat's privacy rule decides what shows: a public room's message is named to
    anyone; a message of a private or direct room only to a ``viewer`` who may read
    that room (``may_read``), and as "A message in a private chat" to everyone else
    (``viewer=None``: a report shared beyond the room). Missing messages are left out.
    """
    ids = {int(i) for i in message_ids}
    if not ids:
        return {}
    found = db.session.execute(
        select(ChatMessage.id, ChatMessage.body, ChatRoom)
        .join(ChatRoom, ChatRoom.id == ChatMessage.room_id)
        .where(ChatMessage.id.in_(ids))
    )
    labels = {}
    for message_id, body, room in found:
        if not room.is_public and not may_read(viewer, room):
            labels[message_id] = PRIVATE_MESSAGE_LABEL
            continue
        text = " ".join(EMBED_TOKEN_RE.sub("", body).split())
        text = text if len(text) <= 60 else text[:59].rstrip() + "…"
        labels[message_id] = f"#{room.slug}: {text}" if text else f"#{room.slug}: a shared offer"
    return labels
