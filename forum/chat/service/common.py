"""Chat constants, the small SQL helpers and every check (who may read, write, moderate; what a slug, name, body may be)."""

import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from ... import database, ratelimit
from ...accounts.models import User
from ...clock import now
from ...errors import Forbidden, NotFound, RateLimited, field_error
from ...extensions import db
from ...pagination import Page  # noqa: F401  # the chat service's pages are the shared Page
from ...permissions import can_moderate, check_not_silenced, check_not_suspended  # noqa: F401  (used by the feature)
from ...permissions import is_member as is_user
from ...schemas import MAX_DB_INT
from ..models import ChatMember, ChatRoom
from ..schemas import (  # noqa: F401 (the limits are part of the service's API too)
    MUTE_MAX_MINUTES,
    NAME_MAX,
    NAME_MIN,
    NEW_SLUG_MAX,
    NEW_SLUG_MIN,
    NONCE_MAX,
    PRIVATE_MEMBERS_MAX,
    ROOM_SLUG_MAX,
    TOPIC_MAX,
)

NAMESPACE = "/chat"
PUBLIC_ROOMS_CHANNEL = "rooms:public"  # every /chat socket: new public rooms appear in sidebars
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# every room's slug (public, private, direct)
ANY_SLUG_RE = re.compile(rf"^[a-z0-9-]{{1,{ROOM_SLUG_MAX}}}$")
# C0 control characters but tab and newline: invisible, and PostgreSQL refuses NUL.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
RESERVED_SLUGS = {"new", "dm", "api", "static"}
DIRECT_PREFIX = "dm-"
HISTORY_PAGE = 50
SYNC_PAGE = 200


@dataclass
class RoomEntry:
    """A room as one viewer's sidebar shows it."""

    room: ChatRoom
    name: str
    unread: int = 0
    joined: bool = False
    other: User | None = None  # direct rooms: the other member


# --- small SQL helpers --------------------------------------------------------------


def insert_ignore(model, **values) -> None:
    """INSERT, doing nothing when a row with the same key (primary or unique) exists; both engines."""
    db.session.execute(database.insert_ignore(model, values))


def add_member(room: ChatRoom, user_id: int, at=None) -> None:
    """Make ``user_id`` a plain member of ``room`` (last read: nothing) unless they are one."""
    insert_ignore(
        ChatMember,
        room_id=room.id,
        user_id=user_id,
        role="member",
        last_read_id=0,
        joined_at=at or now(),
    )


def presence_ttl() -> timedelta:
    return timedelta(seconds=int(current_app.config["CHAT_PRESENCE_TTL_SECONDS"]))


# --- checks ---------------------------------------------------------------------------


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
    check_not_silenced(user)
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
    if not (NEW_SLUG_MIN <= len(slug) <= NEW_SLUG_MAX and SLUG_RE.match(slug)):
        raise field_error(
            "slug",
            f"Use {NEW_SLUG_MIN}-{NEW_SLUG_MAX} lowercase letters, digits and single dashes.",
        )
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


def room_target(room: ChatRoom) -> str:
    """What a room's notifications are grouped by, and marked read by on reading it."""
    return f"room:{room.id}"
