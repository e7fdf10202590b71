"""Search shapes: the document an owner hands over, the query a searcher sends, a hit."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

KINDS = ("post", "thread", "product", "event", "message")
Kind = Literal["post", "thread", "product", "event", "message"]
Q_MAX = 200


@dataclass
class Document:
    """What an owning feature says is searchable about one of its rows.

    ``source``/``source_id`` name that row; ``kind``/``ref_id`` the result it shows as
    (a thread's document comes from its opening post). ``title`` ranks above ``body``;
    both are plain text (``markup.plain_text``), never Markdown. ``url`` is the path a
    result links to; ``label`` a line shown with it (a reply's thread, a room)."""

    source: str
    source_id: int
    kind: str
    ref_id: int
    url: str
    title: str = ""
    body: str = ""
    label: str = ""
    category_id: int | None = None
    author_id: int | None = None
    has_offer: bool = False
    hidden: bool = False
    created_at: datetime | None = None

    @classmethod
    def of_row(cls, kind: str, row_id: int, **fields) -> "Document":
        """The document of a row that shows as itself (an event, a product, a message):
        its source and its result are the same ``kind`` and id."""
        return cls(source=kind, source_id=row_id, kind=kind, ref_id=row_id, **fields)


class SearchQuery(BaseModel):
    """``GET /search`` and ``GET /api/v1/search``: words and filters, all optional but
    ``q``. Query-string values, so types are coerced (``since=2026-01-31``)."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=Q_MAX)
    type: Kind | None = None
    category: str | None = Field(default=None, max_length=48)
    author: str | None = Field(default=None, max_length=64)
    since: date | None = None
    until: date | None = None
    has_offer: bool = False


@dataclass
class Hit:
    """One result: ``title`` and ``snippet`` are HTML (escaped text, matches in ``<mark>``)."""

    type: str
    id: int
    url: str
    title: str
    snippet: str
    label: str
    author_id: int | None
    created_at: datetime
    rank: float
