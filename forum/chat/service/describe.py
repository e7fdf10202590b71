"""Names of chat messages for other features' reports, under chat's own privacy rule."""

import re

from sqlalchemy import select

from ...extensions import db
from ..models import ChatMessage, ChatRoom
from .common import may_read

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
