"""Messages: sending (seq, nonce, mentions), history, resync and deleting."""

from flask import url_for
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ... import markup, realtime, signals
from ...accounts.models import User
from ...clock import now
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

# The send path's statements are built once (bind parameters for the values): a chat
# message is the site's busiest write, and building an ORM statement and computing its
# cache key costs more than running it (measured on SQLite: ~0.4 ms per ORM statement
# against ~0.1 ms for the same one prebuilt in Core; tests/bench/bench_chat_fanout.py).
# Core statements do not autoflush and leave the session's objects alone, as the
# ``synchronize_session=False`` helpers in forum.database do.
_rooms = ChatRoom.__table__
_members = ChatMember.__table__
_messages = ChatMessage.__table__
_TAKE_SEQ = (
    update(_rooms)
    .where(_rooms.c.id == bindparam("room_id"))
    .values(message_seq=_rooms.c.message_seq + 1)
    .returning(_rooms.c.message_seq)
)
_GIVE_BACK_SEQ = (
    update(_rooms)
    .where(_rooms.c.id == bindparam("room_id"))
    .values(message_seq=_rooms.c.message_seq - 1)
)
_BY_NONCE = select(ChatMessage).where(
    ChatMessage.author_id == bindparam("author_id"), ChatMessage.nonce == bindparam("nonce")
)
_INSERT_MESSAGE = insert(_messages).returning(_messages.c.id)
_LAST_MESSAGE = (
    update(_rooms)
    .where(_rooms.c.id == bindparam("room_id"))
    .values(
        last_message_id=bindparam("message_id", type_=_rooms.c.last_message_id.type),
        last_message_at=bindparam("at", type_=_rooms.c.last_message_at.type),
    )
)
_READ_OWN = (
    update(_members)
    .where(
        _members.c.room_id == bindparam("in_room"),
        _members.c.user_id == bindparam("reader"),
        _members.c.last_read_id < bindparam("upto"),
    )
    .values(last_read_id=bindparam("upto"))
)


def _take_seq(room: ChatRoom) -> int:
    """The room's next seq: ``UPDATE ... RETURNING``, which holds the room's row (its
    writers queue here until commit)."""
    return int(db.session.execute(_TAKE_SEQ, {"room_id": room.id}).scalar_one())


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
    seq = None
    if nonce is not None:
        # Take the seq (the room's lock) first so a concurrent resend sees the committed
        # original; a resend gives the number back (still under the lock: nobody took
        # one since), so seqs stay gap-free.
        seq = _take_seq(room)
        existing = db.session.scalar(_BY_NONCE, {"author_id": author.id, "nonce": nonce})
        if existing is not None:
            db.session.execute(_GIVE_BACK_SEQ, {"room_id": room.id})
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
    if seq is None:
        seq = _take_seq(room)
    values = {
        "room_id": room.id,
        "seq": seq,
        "author_id": author.id,
        "nonce": nonce,
        "body": body,
        "body_html": rendered.html,
        "embeds": [ref.key for ref in rendered.embeds],
        "created_at": at,
        "deleted_at": None,
        "deleted_by_id": None,
    }
    message_id = db.session.execute(_INSERT_MESSAGE, values).scalar_one()
    # The row exists: the session holds it as if it had flushed it (nothing left unloaded).
    message = ChatMessage(id=message_id, **values)
    make_transient_to_detached(message)
    db.session.add(message)
    set_committed_value(message, "room", room)
    set_committed_value(message, "author", author)
    db.session.execute(_LAST_MESSAGE, {"room_id": room.id, "message_id": message_id, "at": at})
    if member is not None:
        db.session.execute(_READ_OWN, {"in_room": room.id, "reader": author.id, "upto": message_id})
        set_committed_value(member, "last_read_id", max(member.last_read_id, message_id))
    # The row now holds these (set in SQL above); no need to read it back.
    for name, value in (
        ("message_seq", seq),
        ("last_message_id", message_id),
        ("last_message_at", at),
    ):
        set_committed_value(room, name, value)
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
    if not mentions and not room.is_direct:
        return  # nobody to tell: most messages
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
