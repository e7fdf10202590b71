"""Messages: sending (seq, nonce, mentions), history, resync and deleting."""

from flask import url_for
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ... import markup, realtime, signals
from ...accounts.models import User
from ...clock import now
from ...database import next_in_sequence, update_row
from ...errors import Conflict, Forbidden, NotFound
from ...extensions import db
from ...notifications import service as notifications
from ...pagination import keyset_page
from ...trust import service as trust
from ..models import ChatMember, ChatMessage, ChatRoom
from ..schemas import dump_message
from .common import (
    HISTORY_PAGE,
    NAMESPACE,
    SYNC_PAGE,
    Page,
    can_moderate,
    check_body,
    check_can_write,
    check_nonce,
    check_send_rate,
    may_read,
    membership,
    room_target,
)
from .presence import (
    online_ids,
)


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
    if room.kind == "direct":
        trust.check_direct_message(author)
    if nonce is not None:
        # Take the room's lock first so a concurrent resend sees the committed original.
        update_row(room, message_seq=ChatRoom.message_seq)
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
    rendered = markup.render(body)
    trust.check_post_content(author, rendered.html, rendered.mentions, where="message")
    trust.check_chat_rate(author)
    check_send_rate(author)
    at = now()
    seq = next_in_sequence(room, ChatRoom.message_seq)
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
    update_row(room, last_message_id=message.id, last_message_at=at)
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
    signals.message_sent.send(message, room=room)  # promotions: where offers are shown
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
    # Grouped per room while unread, like thread replies: "alice and 2 others mentioned
    # you in #coffee", "3 new messages from bob"; the link is the first unread one's.
    told = {author.id}
    url = message_url(room, message)
    label = _room_label(room)
    target = room_target(room)
    notifications.notify_mentioned(
        author,
        mentions,
        "chat_mention",
        f"{author.username} mentioned you in {label}",
        url,
        told=told,
        may_see=lambda user: may_read(user, room),
        action=f"mentioned you in {label}",
        target=target,
    )
    if room.is_direct:
        # The other member hears about it unless they are looking at the conversation.
        for other_id in db.session.scalars(
            select(ChatMember.user_id).where(
                ChatMember.room_id == room.id, ChatMember.user_id.not_in(told)
            )
        ):
            if not online_ids(room, [other_id]):
                notifications.notify_group(
                    other_id,
                    "chat_direct",
                    "sent you a direct message",
                    url,
                    actor=author,
                    target=target,
                    counted="new messages from",
                )


def get_message(message_id, viewer, *, room: ChatRoom | None = None) -> ChatMessage:
    """A message ``viewer`` may read; NotFound when missing, deleted, in a room they cannot
    see, or (given ``room``) in another room."""
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise NotFound("No such message.")
    message = db.session.get(ChatMessage, message_id)
    if message is None or message.is_deleted or not may_read(viewer, message.room):
        raise NotFound("No such message.")
    if room is not None and message.room_id != room.id:
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
    return keyset_page(db.session.scalars(query).all(), limit, lambda message: str(message.id))


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


def delete_message(actor: User, message: ChatMessage, reason: str = "") -> None:
    """Soft-delete; the author or a moderator. A moderator's delete needs a reason and
    goes in the audit log."""
    from ...moderation import service as moderation

    room = message.room
    if message.is_deleted or not may_read(actor, room):
        raise NotFound("No such message.")
    by_moderator = actor.id != message.author_id
    if by_moderator and not can_moderate(actor):
        raise Forbidden("Only the author or a moderator can delete this message.")
    if by_moderator:
        reason = moderation.check_reason(reason)
    message.deleted_at = now()
    message.deleted_by_id = actor.id
    signals.search_stale.send("message", ids=[message.id])
    if by_moderator:
        moderation.record_on(
            actor,
            "chat.message.delete",
            "chat_message",
            message,
            reason=reason,
            room=room.slug,
            author_id=message.author_id,
        )
    realtime.announce(
        "message_deleted",
        {"id": message.id, "room": room.slug},
        room=room.channel,
        namespace=NAMESPACE,
    )
