"""Names of chat messages for other features' reports and what search may index,
under chat's own privacy rule."""

from flask import url_for
from sqlalchemy import select

from ...extensions import db
from ...markup import excerpt, plain_text
from ...pagination import id_batch
from ..models import ChatMessage, ChatRoom
from .common import may_read

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
        select(ChatMessage.id, ChatMessage.body_html, ChatRoom)
        .join(ChatRoom, ChatRoom.id == ChatMessage.room_id)
        .where(ChatMessage.id.in_(ids))
    )
    labels = {}
    for message_id, body, room in found:
        if not room.is_public and not may_read(viewer, room):
            labels[message_id] = PRIVATE_MESSAGE_LABEL
            continue
        text = excerpt(body, 60)
        labels[message_id] = f"#{room.slug}: {text}" if text else f"#{room.slug}: a shared offer"
    return labels


def _searchable():
    return (
        select(ChatMessage, ChatRoom)
        .join(ChatRoom, ChatRoom.id == ChatMessage.room_id)
        .where(ChatRoom.kind == "public", ChatMessage.deleted_at.is_(None))
    )


def search_documents(ids=None, *, after: int = 0, limit: int = 1000):
    """Search documents for messages of public rooms only (``ids``, or the next
    ``limit`` past ``after``): a private or direct room's message is never handed
    over, nor a deleted one. Returns (documents, the last id scanned when more may
    follow, else None)."""
    query = _searchable()
    rows, last = id_batch(query, ChatMessage.id, ids, after=after, limit=limit, pairs=True)
    return [_document(message, room) for message, room in rows], last


def _document(message: ChatMessage, room: ChatRoom):
    from ...search.schemas import Document

    return Document.of_row(
        "message",
        message.id,
        url=url_for("chat.room", slug=room.slug, _anchor=f"m-{message.id}"),
        body=plain_text(message.body_html),
        label=f"#{room.name}",
        author_id=message.author_id,
        has_offer=bool(message.embeds),
        created_at=message.created_at,
    )


def message_document(message: ChatMessage, room: ChatRoom):
    """The search document of a message just sent (from the objects in hand, no read),
    or None when search may not have it (a private or direct room, a deleted message):
    the same rule as ``search_documents``."""
    if room.kind != "public" or message.deleted_at is not None:
        return None
    return _document(message, room)


def public_message_ids(message_ids) -> set[int]:
    """Of ``message_ids``, those (not deleted) in a public room."""
    ids = {int(i) for i in message_ids}
    if not ids:
        return set()
    return set(
        db.session.scalars(
            _searchable().where(ChatMessage.id.in_(ids)).with_only_columns(ChatMessage.id)
        )
    )
