"""Search: typed, ranked results."""

from typing import Literal

from .shared import Cursor, Out, Timestamp, UserRef


class SearchHit(Out):
    type: Literal["post", "thread", "product", "event", "message"]
    id: int
    url: str
    title: str  # HTML: escaped text, matches wrapped in <mark>
    snippet: str  # HTML: plain text escaped, matches wrapped in <mark>
    label: str  # plain text: a reply's thread, a message's room, an event's day
    author: UserRef | None
    created_at: Timestamp
    rank: float


class SearchPage(Out):
    items: list[SearchHit]
    next_cursor: Cursor
