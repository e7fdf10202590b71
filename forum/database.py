"""Column types and small SQL building blocks shared by every feature's models."""

import sqlite3
from datetime import UTC, datetime

from sqlalchemy import DateTime, event, types
from sqlalchemy.engine import Engine


class UTCDateTime(types.TypeDecorator):
    """Stores naive UTC, returns aware UTC, refuses naive input.

    SQLite has no time zones; PostgreSQL's ``timestamp without time zone`` keeps
    exactly what we give it. Normalising here means every feature compares
    aware datetimes and nothing is silently shifted.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def is_sqlite(session_or_engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if hasattr(session_or_engine, "get_bind")
        else session_or_engine
    )
    return bind.dialect.name == "sqlite"


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL lets readers and one writer work at once; busy_timeout waits for the lock."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(conn, name):
    """pysqlite opens a transaction lazily, before the first INSERT/UPDATE/DELETE, but not
    before a SAVEPOINT; a savepoint that comes first would then run in autocommit and its
    RELEASE would commit for good. Open the transaction first, so the savepoint rolls back
    with its parent as it does on PostgreSQL. (Reads stay lazy: no snapshot is taken early,
    which keeps concurrent writers from failing with SQLITE_BUSY on lock upgrade.)"""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if not raw.in_transaction:
            raw.execute("BEGIN")
