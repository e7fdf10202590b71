"""One table holds every searchable thing, whatever feature owns it.

A row is a *document*: the plain text of a post, a thread (its title and opening post),
a product (name, description and its reviews), an event or a public chat message, with
the facts search filters on. ``source``/``source_id`` name the row it was built from
(a thread's document comes from its first post), ``kind``/``ref_id`` what a result
shows. The owners decide what is searchable (chat never hands over a private room's
message); search keeps the rows in step when they say something changed.

PostgreSQL: ``tsv`` is a weighted tsvector (title A, body B) kept by a trigger and
indexed with GIN. SQLite: the FTS5 table ``search_fts`` (external content: the text is
not stored twice) kept by triggers; ``tsv`` stays empty there.
"""

from datetime import datetime

from sqlalchemy import (
    DDL,
    Boolean,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db

#: The text search configuration of the stored vectors and of every query.
FTS_CONFIG = "english"
#: PostgreSQL's parser reads ``<b>`` as a tag and ``&lt;`` as an entity, and drops them
#: from headlines; the text is plain, so it sees stand-ins (private-use characters)
#: instead, and the snippet maps them back before escaping.
TAG_CHARS, TAG_STANDINS = "<>&", "\ue000\ue001\ue002"


class SearchDocument(db.Model):
    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_search_documents_source"),
        # fastupdate off: no pending list for searches to scan linearly after writes.
        Index(
            "ix_search_documents_fts",
            "tsv",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # post | message | product | event
    source_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # post | thread | product | event | message
    ref_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")  # weighted above the body
    body: Mapped[str] = mapped_column(Text, default="")  # plain text, never Markdown
    label: Mapped[str] = mapped_column(String(300), default="")  # shown, not searched
    url: Mapped[str] = mapped_column(String(300))
    category_id: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(Integer)
    has_offer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Hidden by a moderator: found by moderators and its author only.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    tsv: Mapped[str | None] = mapped_column(TSVECTOR().with_variant(Text(), "sqlite"))


PG_TSV_DDL = (
    f"""CREATE OR REPLACE FUNCTION search_documents_tsv() RETURNS trigger AS $$
BEGIN
  NEW.tsv := setweight(to_tsvector('{FTS_CONFIG}', translate(coalesce(NEW.title, ''), '{TAG_CHARS}', '{TAG_STANDINS}')), 'A')
          || setweight(to_tsvector('{FTS_CONFIG}', translate(coalesce(NEW.body, ''), '{TAG_CHARS}', '{TAG_STANDINS}')), 'B');
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER search_documents_tsv BEFORE INSERT OR UPDATE OF title, body "
    "ON search_documents FOR EACH ROW EXECUTE FUNCTION search_documents_tsv()",
)
PG_TSV_DROP = ("DROP FUNCTION IF EXISTS search_documents_tsv() CASCADE",)

SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, body, "
    "content='search_documents', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS search_fts_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_fts_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_fts_au AFTER UPDATE OF title, body ON search_documents "
    "BEGIN INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)
SQLITE_FTS_DROP = ("DROP TABLE IF EXISTS search_fts",)

_table = SearchDocument.__table__
for _statement in PG_TSV_DDL:
    event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in PG_TSV_DROP:
    event.listen(_table, "after_drop", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_FTS_DDL:
    event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in SQLITE_FTS_DROP:
    event.listen(_table, "before_drop", DDL(_statement).execute_if(dialect="sqlite"))
