"""Chat: rooms, messages, mutes, read state."""

from pydantic import Field

from .shared import Embed, Out, Timestamp, UserRef

# --- chat ---------------------------------------------------------------------------


class Author(UserRef):
    initials: str
    hue: int


class ChatMessage(Out):
    id: int
    seq: int
    room: str
    author: Author
    body: str
    body_html: str
    embeds: list[Embed]
    created_at: Timestamp | None


class ChatMessagePage(Out):
    items: list[ChatMessage]
    next_cursor: int | str | None


class Room(Out):
    id: int
    slug: str
    name: str
    kind: str
    topic: str
    last_message_id: int | None
    last_message_at: Timestamp | None
    created_at: Timestamp | None
    unread: int = 0
    members: list[UserRef] = Field(default_factory=list)


class RoomListed(Room):
    joined: bool


class RoomList(Out):
    items: list[RoomListed]
    next_cursor: None


class RoomDetail(Room):
    online: list[UserRef]


class Mute(Out):
    room: str
    user: UserRef
    until: Timestamp


class ReadState(Out):
    room: str
    unread: int
