"""Keyset pagination: the one ``Page``, opaque cursors (``?cursor=`` / ``?limit=`` in the
API) and ``keyset_page``, which turns rows fetched with ``limit + 1`` into a page.

A list query orders by a unique key, asks for one row more than the page holds and
hands the rows to ``keyset_page`` with how to write the last row's cursor; the next
call decodes that cursor (``decode``, or ``after_id`` for a bare id) and filters past it.
"""

import base64
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select

from . import jsonbody
from .errors import field_error
from .extensions import db
from .schemas import MAX_DB_INT, MIN_DB_INT

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """One page of a list: its items and the cursor of the next page (None on the last)."""

    items: list[T]
    next_cursor: str | None

    def dump(self, item: Callable[[T], Any]) -> dict[str, Any]:
        """The API's page shape: ``{"items": [item(x), ...], "next_cursor": ...}``."""
        return {"items": [item(x) for x in self.items], "next_cursor": self.next_cursor}


def keyset_page(rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]) -> Page[T]:
    """The first ``limit`` of ``rows`` (fetched with ``limit + 1``), with a cursor made by
    ``cursor_of`` from the last of them when there were more."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items, cursor_of(items[-1]) if more else None)


def id_batch(
    query: Select[Any],
    id_column: Any,
    ids: Iterable[int] | None = None,
    *,
    after: int = 0,
    limit: int = 1000,
    pairs: bool = False,
) -> tuple[list[Any], int | None]:
    """The rows of ``query`` with ``ids``, or the next ``limit`` past ``after`` in
    ``id_column`` order (how an owner hands search its rows); with the last id scanned
    when more may follow, else None. ``pairs``: the query selects tuples, the first is
    the row whose id it is."""
    if ids is not None:
        query = query.where(id_column.in_(list(ids)))
    else:
        query = query.where(id_column > after).order_by(id_column).limit(limit)
    rows: list[Any] = (
        list(db.session.execute(query).all()) if pairs else list(db.session.scalars(query))
    )
    if ids is not None or not rows or len(rows) != limit:
        return rows, None
    return rows, (rows[-1][0] if pairs else rows[-1]).id


def encode(values: list[Any]) -> str:
    return (
        base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode())
        .decode()
        .rstrip("=")
    )


def decode(cursor: str | None, arity: int) -> list[Any] | None:
    """Return the cursor's values, None for no cursor; raise a 422 field error when forged."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = jsonbody.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise field_error("cursor", "That cursor is not valid.") from None
    if not isinstance(values, list) or len(values) != arity or not all(map(_plain, values)):
        raise field_error("cursor", "That cursor is not valid.")
    return values


def after_id(cursor: str | None) -> int | None:
    """The id a one-value cursor (``encode([row.id])``) points past; None for no cursor."""
    after = decode(cursor, 1)
    if after is None:
        return None
    if not isinstance(after[0], int) or isinstance(after[0], bool):
        raise field_error("cursor", "That cursor is not valid.")
    return after[0]


def _plain(value: object) -> bool:
    """Cursors we issue hold strings, booleans and column-range integers, nothing nested."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return MIN_DB_INT <= value <= MAX_DB_INT
    return isinstance(value, float) and value == value and abs(value) < 1e15


def limit_from(raw: str | int | None, default: int = DEFAULT_LIMIT) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise field_error("limit", f"Use a whole number from 1 to {MAX_LIMIT}.") from None
    if not 1 <= value <= MAX_LIMIT:
        raise field_error("limit", f"Use a whole number from 1 to {MAX_LIMIT}.")
    return value
