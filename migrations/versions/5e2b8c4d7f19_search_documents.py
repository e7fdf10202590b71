"""search: one search_documents table for every searchable thing (weighted tsvector +
GIN on PostgreSQL, FTS5 on SQLite); the board's per-table full-text indexes go.

Fill it after upgrading: ``flask --app forum search rebuild`` (the owners' services
build each document's plain text; new writes are indexed as they happen).

Revision ID: 5e2b8c4d7f19
Revises: 298f3cc34d18
Create Date: 2026-12-01 17:50:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "5e2b8c4d7f19"
down_revision = "298f3cc34d18"
branch_labels = None
depends_on = None

# The same DDL as forum/search/models.py ("<>&" become private-use stand-ins so the
# parser sees no tags or entities in plain text).
STANDINS = "\ue000\ue001\ue002"
PG_TSV = [
    f"""CREATE OR REPLACE FUNCTION search_documents_tsv() RETURNS trigger AS $$
BEGIN
  NEW.tsv := setweight(to_tsvector('english', translate(coalesce(NEW.title, ''), '<>&', '{STANDINS}')), 'A')
          || setweight(to_tsvector('english', translate(coalesce(NEW.body, ''), '<>&', '{STANDINS}')), 'B');
  RETURN NEW;
END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER search_documents_tsv BEFORE INSERT OR UPDATE OF title, body "
    "ON search_documents FOR EACH ROW EXECUTE FUNCTION search_documents_tsv()",
]
SQLITE_FTS = [
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
]
OLD_SQLITE_FTS_DROP = [
    *(f"DROP TRIGGER IF EXISTS {t}_fts_{w}" for t in ("posts", "threads") for w in ("ai", "ad", "au")),
    "DROP TABLE IF EXISTS posts_fts",
    "DROP TABLE IF EXISTS threads_fts",
]
OLD_SQLITE_FTS = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(body, content='posts', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS posts_fts_ai AFTER INSERT ON posts BEGIN INSERT INTO posts_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS posts_fts_ad AFTER DELETE ON posts BEGIN INSERT INTO posts_fts(posts_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS posts_fts_au AFTER UPDATE OF body ON posts BEGIN INSERT INTO posts_fts(posts_fts, rowid, body) VALUES ('delete', old.id, old.body); INSERT INTO posts_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE VIRTUAL TABLE IF NOT EXISTS threads_fts USING fts5(title, content='threads', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS threads_fts_ai AFTER INSERT ON threads BEGIN INSERT INTO threads_fts(rowid, title) VALUES (new.id, new.title); END",
    "CREATE TRIGGER IF NOT EXISTS threads_fts_ad AFTER DELETE ON threads BEGIN INSERT INTO threads_fts(threads_fts, rowid, title) VALUES ('delete', old.id, old.title); END",
    "CREATE TRIGGER IF NOT EXISTS threads_fts_au AFTER UPDATE OF title ON threads BEGIN INSERT INTO threads_fts(threads_fts, rowid, title) VALUES ('delete', old.id, old.title); INSERT INTO threads_fts(rowid, title) VALUES (new.id, new.title); END",
    "INSERT INTO posts_fts(posts_fts) VALUES ('rebuild')",
    "INSERT INTO threads_fts(threads_fts) VALUES ('rebuild')",
]


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("has_offer", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tsv", sa.Text() if sqlite else postgresql.TSVECTOR(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("source", "source_id", name="uq_search_documents_source"),
    )
    if sqlite:
        for statement in OLD_SQLITE_FTS_DROP + SQLITE_FTS:
            op.execute(statement)
    else:
        for statement in PG_TSV:
            op.execute(statement)
        op.create_index(
            "ix_search_documents_fts",
            "search_documents",
            ["tsv"],
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        )
        op.drop_index("ix_posts_fts", table_name="posts")
        op.drop_index("ix_threads_fts", table_name="threads")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TABLE IF EXISTS search_fts")
        for statement in OLD_SQLITE_FTS:
            op.execute(statement)
    else:
        op.create_index("ix_posts_fts", "posts", [sa.text("to_tsvector('english', body)")], postgresql_using="gin")
        op.create_index("ix_threads_fts", "threads", [sa.text("to_tsvector('english', title)")], postgresql_using="gin")
        op.drop_index("ix_search_documents_fts", table_name="search_documents")
    op.drop_table("search_documents")
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS search_documents_tsv()")
