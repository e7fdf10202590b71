"""Column types and small SQL building blocks shared by every feature's models."""

import functools
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, ParamSpec, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    ForeignKey,
    event,
    exists,
    func,
    select,
    types,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Dialect, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import QueryableAttribute, Session, joinedload, mapped_column
from sqlalchemy.sql.visitors import InternalTraversal

from .clock import now


class UTCDateTime(types.TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, refuses naive input.

    SQLite has no time zones; PostgreSQL's ``timestamp without time zone`` keeps
    exactly what we give it. Normalising here means every feature compares
    aware datetimes and nothing is silently shifted.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# Column shapes most tables share (SQLAlchemy's Annotated pattern): ``id: Mapped[PrimaryKey]``,
# ``created_at: Mapped[StampedNow]`` (the moment the row is made, on the app's clock).
PrimaryKey = Annotated[int, mapped_column(primary_key=True)]
StampedNow = Annotated[datetime, mapped_column(UTCDateTime, default=now)]


_Built = TypeVar("_Built")
_Args = ParamSpec("_Args")


def prepared(build: Callable[_Args, _Built]) -> Callable[_Args, _Built]:
    """A statement built once per process (on first use) and reused, for a hot path:
    ``build`` returns it with a ``bindparam("name")`` for every value that changes, and
    the caller executes ``prepared_fn()`` with those values (``db.session.execute(
    stmt, {"name": ...})``). Building ``select(...).where(...)`` anew on every call
    costs more Python than running it: each call coerces every argument again and
    computes the statement's cache key again (a statement object keeps its key), about
    half of what a short statement costs in this process. A built statement holds no
    values, so threads share it. ``build`` may take hashable arguments (a statement per
    shape); use ``prepared_for`` for one that depends on the dialect (``insert_ignore``)."""
    return functools.cache(build)  # type: ignore[return-value]


def prepared_for(build: Callable[..., _Built]) -> Callable[..., _Built]:
    """As ``prepared``, one statement per dialect (and per further arguments, hashable):
    ``build(dialect_name, *args)``, called as ``fn(session_or_engine, *args)``."""
    made = functools.cache(build)

    def statement(bind: Any, *args: Any) -> _Built:
        bind = bind.get_bind() if hasattr(bind, "get_bind") else bind
        return made(bind.dialect.name, *args)

    return statement


def cascade_key(target: str, *, index: bool = False) -> Any:
    """A column of a composite primary key that points at ``target`` ("users.id") and
    goes with it: the member and the thing of a one-row-per-pair table (likes, reads,
    watches, votes), ``user_id: Mapped[int] = cascade_key("users.id")``. ``index`` for
    the column that is not the key's first (lookups by the thing alone)."""
    return mapped_column(
        ForeignKey(target, ondelete="CASCADE"), primary_key=True, index=True if index else None
    )


def is_sqlite(session_or_engine: Any) -> bool:
    bind = (
        session_or_engine.get_bind()
        if hasattr(session_or_engine, "get_bind")
        else session_or_engine
    )
    return bool(bind.dialect.name == "sqlite")


def dialect_insert(table_or_model: Any, *, bind: Any = None) -> Any:
    """``INSERT`` for the engine in use, with its ``on_conflict_*`` methods (PostgreSQL or SQLite).

    ``bind`` defaults to the session's; pass an engine where a statement is built once
    per engine. The one place the dialect of an insert is chosen; upserts
    (``on_conflict_do_update``) start here, ``insert_ignore`` covers "insert once".
    """
    from .extensions import db  # the models import this module; the session is needed late

    bind = bind if bind is not None else db.session.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(table_or_model)


def _column_name(element: Any) -> str | None:
    """The column name an ``index_elements`` entry stands for ("key", a Column, a mapped
    attribute); None for anything else (an expression)."""
    if isinstance(element, str):
        return element
    column = getattr(element, "expression", element)  # a mapped attribute's column
    name = getattr(column, "name", None)
    return name if isinstance(name, str) and getattr(column, "table", None) is not None else None


def _keyed_do_nothing(base: type) -> type:
    """The dialect's ON CONFLICT DO NOTHING clause with a cache key.

    SQLAlchemy 2.0 gives its ``on_conflict_*`` clauses no cache key, so every such INSERT
    was compiled anew on every execution (the costliest step of attribution's conversion
    insert on each payment). The SQL of DO NOTHING on columns depends only on their names,
    which make the key. A clause with a named constraint or an index WHERE keeps the
    library's class (compiled every time, as before), and so does every upsert."""

    class DoNothing(base):  # type: ignore[misc]
        _cache_key_traversal = [("_target_names", InternalTraversal.dp_plain_obj)]

        def __init__(self, names: tuple[str, ...] | None) -> None:
            super().__init__(index_elements=names)
            self._target_names = names

    return DoNothing


def _with_keyed_do_nothing(statement: Any, clause: type, index_elements: Any) -> Any:
    names = None if index_elements is None else tuple(map(_column_name, index_elements))
    if names is None or all(names):
        statement._post_values_clause = clause(names)
    return statement


class _PostgresInsert(postgresql.Insert):
    """``insert_ignore``'s INSERT on PostgreSQL (upserts keep the library's, uncached)."""

    inherit_cache = True
    _do_nothing = _keyed_do_nothing(postgresql.dml.OnConflictDoNothing)

    def on_conflict_do_nothing(
        self, constraint: Any = None, index_elements: Any = None, index_where: Any = None
    ) -> Any:
        statement = super().on_conflict_do_nothing(constraint, index_elements, index_where)
        if constraint is not None or index_where is not None:
            return statement
        return _with_keyed_do_nothing(statement, self._do_nothing, index_elements)


class _SQLiteInsert(sqlite.Insert):
    """``insert_ignore``'s INSERT on SQLite."""

    inherit_cache = True
    _do_nothing = _keyed_do_nothing(sqlite.dml.OnConflictDoNothing)

    def on_conflict_do_nothing(self, index_elements: Any = None, index_where: Any = None) -> Any:
        statement = super().on_conflict_do_nothing(index_elements, index_where)
        if index_where is not None:
            return statement
        return _with_keyed_do_nothing(statement, self._do_nothing, index_elements)


def insert_ignore(
    table_or_model: Any,
    values: dict[str, Any] | None,
    *,
    index_elements: Sequence[Any] | None = None,
    bind: Any = None,
    dialect: str | None = None,
) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING``: inserts ``values`` unless the row's key exists.

    ``index_elements`` names the unique columns the conflict is about (any unique
    key when omitted). Returns the statement: add ``.returning(pk)`` to learn whether
    it inserted (None when a row was already there). ``values`` None leaves them to
    ``execute(statement, rows)`` (executemany). Under concurrency a twin waits on
    the unique index (PostgreSQL) and then inserts nothing, with no error to undo.
    Unlike SQLAlchemy's own, the statement is compiled once per shape, then cached.
    ``dialect`` ("postgresql" or "sqlite") instead of ``bind``: for a statement built once
    per dialect (``prepared_for``).
    """
    if dialect is None:
        from .extensions import db  # the models import this module; the session is needed late

        dialect = (bind if bind is not None else db.session.get_bind()).dialect.name
    insert = _PostgresInsert if dialect == "postgresql" else _SQLiteInsert
    statement = insert(table_or_model)
    if values is not None:
        statement = statement.values(**values)
    return statement.on_conflict_do_nothing(index_elements=index_elements)


def add_unique(row: Any) -> bool:
    """Add ``row`` and flush it in a savepoint: False, with the row left out and the rest
    of the transaction intact, when a unique key refuses it (a twin that got there first,
    on PostgreSQL a concurrent one the index made wait)."""
    from .extensions import db  # the models import this module; the session is needed late

    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        return False
    return True


def newest_first(
    owner: QueryableAttribute[Any],
    value: object,
    *,
    by: QueryableAttribute[Any] | None = None,
    limit: int | None = None,
) -> list[Any]:
    """The rows of ``owner``'s table whose ``owner`` column equals ``value``, newest first,
    the first ``limit`` of them: a thing's history, such as a post's revisions
    (``newest_first(PostRevision.post_id, post.id)``). Newest is the highest id, or the
    latest ``by`` (a time column a row may move in, ties by highest id)."""
    from .extensions import db  # the models import this module; the session is needed late

    model = owner.class_
    order = (model.id.desc(),) if by is None else (by.desc(), model.id.desc())
    query = select(model).where(owner == value).order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def oldest_first(
    owner: QueryableAttribute[Any], value: object, *, with_: QueryableAttribute[Any] | None = None
) -> list[Any]:
    """The rows of ``owner``'s table whose ``owner`` column equals ``value``, in the order
    they were made (lowest id first), with the relationship ``with_`` loaded in the same
    statement: a thing's parts as they came, such as an order's history
    (``oldest_first(OrderEvent.order_id, order.id, with_=OrderEvent.actor)``)."""
    from .extensions import db  # the models import this module; the session is needed late

    model = owner.class_
    query = select(model).where(owner == value).order_by(model.id)
    if with_ is not None:
        query = query.options(joinedload(with_))
    return list(db.session.scalars(query))


def rows_by_id(model: Any, ids: Any, *options: Any) -> dict[Any, Any]:
    """id -> row of ``model`` for those of ``ids`` that exist (missing ones left out),
    with loader ``options`` (``joinedload(Thread.author)``): what another feature needs
    to name a batch of things it only holds the ids of. No query for no ids."""
    from .extensions import db  # the models import this module; the session is needed late

    wanted = list(ids)
    if not wanted:
        return {}
    rows = db.session.scalars(select(model).options(*options).where(model.id.in_(wanted)))
    return {row.id: row for row in rows}


def first_ids(column: QueryableAttribute[Any], *conditions: Any, limit: int) -> list[Any]:
    """The ``limit`` lowest values of ``column`` (an id) among the rows meeting
    ``conditions``: the next batch of a sweep's work."""
    from .extensions import db  # the models import this module; the session is needed late

    return list(db.session.scalars(select(column).where(*conditions).order_by(column).limit(limit)))


def id_batches(column: QueryableAttribute[Any], *conditions: Any, size: int) -> Iterator[list[Any]]:
    """The values of ``column`` (an id) of the rows meeting ``conditions``, ascending,
    ``size`` at a time. Each batch is asked for after the last one was handled (keyset:
    ``column > last``), so the caller may commit between batches and rows it changed are
    neither skipped nor seen twice."""
    after: tuple[Any, ...] = ()
    while ids := first_ids(column, *conditions, *after, limit=size):
        yield ids
        after = (column > ids[-1],)


def update_where(model: Any, /, *conditions: Any, **values: Any) -> int:
    """``UPDATE <model's table> SET values WHERE conditions`` in one statement: how many
    rows it changed. A conditional update is how a claim is taken once (``WHERE
    reminded_at IS NULL``: 1 for the call that won it, 0 for its twin) and how a state
    moves only from where it was. ``values`` may be SQL expressions. The session's copies
    of the rows are left as they were: refresh one to read the result."""
    from .extensions import db  # the models import this module; the session is needed late

    result = db.session.execute(
        update(model)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount  # an UPDATE's result is a cursor's


def update_row(row: Any, /, **values: Any) -> None:
    """``UPDATE <row's table> SET values WHERE id = row.id`` in one statement; ``values``
    may be SQL expressions (``total_cents=Order.total_cents - n``), so a count moves in
    SQL, not in Python. The session's copy of ``row`` is left as it was: refresh it to
    read the result."""
    model = type(row)
    update_where(model, model.id == row.id, **values)


def next_in_sequence(row: Any, counter: QueryableAttribute[Any]) -> int:
    """``UPDATE <row's table> SET counter = counter + 1 WHERE id = row.id RETURNING counter``:
    the next number of a sequence the row keeps (a thread's post positions, a room's
    message seq). The UPDATE holds the row's lock until commit, so two writers never get
    the same number. The session's copy of ``row`` is left as it was."""
    from .extensions import db  # the models import this module; the session is needed late

    model = type(row)
    return int(
        db.session.execute(
            update(model)
            .where(model.id == row.id)
            .values({counter: counter + 1})
            .returning(counter)
            .execution_options(synchronize_session=False)
        ).scalar_one()
    )


def correlated_exists(model: Any, *conditions: Any) -> ColumnElement[bool]:
    """``EXISTS (SELECT id FROM <model's table> WHERE conditions)``, correlated to the
    enclosing query (a condition may name its ``User.id``) but never to ``model`` itself:
    a fact about a member for another feature to compose into ONE statement over members
    (campaigns' segments)."""
    return exists(select(model.id).where(*conditions).correlate_except(model))


def correlated_count(model: Any, *conditions: Any) -> ColumnElement[int]:
    """How many rows of ``model``'s table meet ``conditions`` (0 without any), as a scalar
    subquery correlated like ``correlated_exists``: a member's count for a segment."""
    return func.coalesce(
        select(func.count(model.id)).where(*conditions).correlate_except(model).scalar_subquery(),
        0,
    )


@contextmanager
def committed() -> Iterator[None]:
    """Work outside a request (a socket's connect or disconnect, a message piped in):
    commit when the block ends, roll back and re-raise on an error, and always give the
    session back (``db.session.remove``), as Flask-SQLAlchemy does after a request."""
    from .extensions import db

    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()


_TRANSACTION_MEMO = "plaza.transaction_memo"


def transaction_memo(session: Any) -> dict[Any, Any]:
    """A dict that lives as long as the session's outermost transaction (emptied at commit
    or rollback): for a read that several steps of one request repeat and that nothing
    in the transaction changes unless it also drops the key (e.g. a settings row that
    does not exist: ``session.get`` asks the database again for every missing row)."""
    return session.info.setdefault(_TRANSACTION_MEMO, {})  # type: ignore[no-any-return]


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_memo(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_TRANSACTION_MEMO, None)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets readers and one writer work at once; busy_timeout waits for the lock."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(conn: Any, name: str) -> None:
    """pysqlite opens a transaction lazily, before the first INSERT/UPDATE/DELETE, but not
    before a SAVEPOINT; a savepoint that comes first would then run in autocommit and its
    RELEASE would commit for good. Open the transaction first, so the savepoint rolls back
    with its parent as it does on PostgreSQL. (Reads stay lazy: no snapshot is taken early,
    which keeps concurrent writers from failing with SQLITE_BUSY on lock upgrade.)"""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if not raw.in_transaction:
            raw.execute("BEGIN")
