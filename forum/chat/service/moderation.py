"""Chat moderation: muting and unmuting members in a room (audited)."""

from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy import update

from ... import realtime
from ...accounts.models import User
from ...clock import now
from ...errors import Conflict, Forbidden, NotFound, field_error
from ...extensions import db
from ...moderation.schemas import Target, target_answer
from ..models import ChatMember, ChatMessage, ChatRoom
from ..schemas import dump_author
from .common import (
    MUTE_MAX_MINUTES,
    NAMESPACE,
    add_member,
    can_moderate,
    clean_text,
    may_read,
    membership,
)
from .messages import get_message, message_url


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
    from ...moderation import service as moderation

    reason = moderation.check_reason(clean_text(reason) if isinstance(reason, str) else "")
    until = now() + timedelta(minutes=minutes)
    add_member(room, user.id)
    db.session.execute(
        update(ChatMember)
        .where(ChatMember.room_id == room.id, ChatMember.user_id == user.id)
        .values(muted_until=until, muted_by_id=actor.id)
    )
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


def unmute(actor: User, room: ChatRoom, user: User, reason: str = "") -> None:
    """Let ``user`` post in ``room`` again; a reason is required. Audited."""
    from ...moderation import service as moderation

    if not can_moderate(actor):
        raise Forbidden("Only moderators can unmute members.")
    if not may_read(actor, room):
        raise NotFound("No such room.")
    member = membership(room, user)
    if member is None or not member.is_muted:
        raise Conflict(f"{user.username} is not muted here.", code="not_muted")
    reason = moderation.check_reason(clean_text(reason) if isinstance(reason, str) else "")
    member.muted_until = None
    member.muted_by_id = None
    moderation.record(actor, "chat.unmute", "user", user.id, room=room.slug, reason=reason)
    realtime.announce(
        "muted",
        {"room": room.slug, "user": dump_author(user), "until": None},
        room=room.channel,
        namespace=NAMESPACE,
    )


# --- moderation's questions about messages (flags, the review queue) -----------------


@target_answer(get_message)
def describe_message(message: ChatMessage) -> Target:
    """The message as ``viewer`` may read it (None: missing, deleted or not theirs to read)."""
    return Target(
        kind="message",
        id=message.id,
        author_id=message.author_id,
        url=message_url(message.room, message),
        context=f"in #{message.room.slug}",
        body_html=Markup(message.body_html),  # noqa: S704 (sanitised when stored)
    )


def hide_message(kind: str, *, target_id: int, hidden: bool, actor=None, reason: str = "") -> bool:
    """A moderator's decision (or the flag score) takes a message down or puts it back;
    moderation writes the audit entry. Hidden is chat's soft delete."""
    message = db.session.get(ChatMessage, target_id)
    if message is None or message.is_deleted == hidden:
        return False
    message.deleted_at = now() if hidden else None
    message.deleted_by_id = actor.id if (hidden and actor is not None) else None
    if hidden:
        realtime.announce(
            "message_deleted",
            {"id": message.id, "room": message.room.slug},
            room=message.room.channel,
            namespace=NAMESPACE,
        )
    return True
