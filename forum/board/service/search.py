"""Search, a member's recent posts, and the names other features' reports give posts."""

import re

from sqlalchemy import ColumnElement, and_, func, or_, select, text
from sqlalchemy.orm import joinedload

from ...accounts.models import User
from ...errors import field_error
from ...extensions import db
from ...pagination import Page, decode, encode, keyset_page
from ...permissions import can_moderate
from ..models import FTS_CONFIG, Post, Thread
from .access import readable

# --- search ------------------------------------------------------------------------


_FTS_WORD_RE = re.compile(r"\w+", re.UNICODE)


def search(q: str, *, cursor: str | None = None, limit: int = 20, viewer=None) -> Page:
    """Full-text search over posts (and thread titles), newest first.

    SQLite uses the FTS5 tables; PostgreSQL uses ``websearch_to_tsquery`` on the
    GIN-indexed ``to_tsvector`` expressions. Items are posts; a thread whose title
    matches contributes its first post.
    """
    words = _FTS_WORD_RE.findall(q or "")[:12]
    if not words:
        raise field_error("q", "Type at least one word to search for.")
    after = decode(cursor, 1)
    before_id = int(after[0]) if after and str(after[0]).isdigit() else None
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        match = " ".join(f'"{w}"' for w in words)
        matching = text(
            "SELECT rowid FROM posts_fts WHERE posts_fts MATCH :m "
            "UNION SELECT p.id FROM threads_fts JOIN posts p ON p.thread_id = threads_fts.rowid AND p.position = 1 "
            "WHERE threads_fts MATCH :m"
        ).bindparams(m=match)
        id_filter: ColumnElement[bool] = Post.id.in_(matching)
    else:
        tsquery = func.websearch_to_tsquery(FTS_CONFIG, " ".join(words))
        id_filter = or_(
            func.to_tsvector(FTS_CONFIG, Post.body).op("@@")(tsquery),
            and_(Post.position == 1, func.to_tsvector(FTS_CONFIG, Thread.title).op("@@")(tsquery)),
        )
    query = (
        select(Post)
        .join(Thread, Thread.id == Post.thread_id)
        .options(joinedload(Post.author), joinedload(Post.thread))
        .where(id_filter, Post.deleted_at.is_(None), Thread.deleted_at.is_(None))
        .order_by(Post.id.desc())
        .limit(limit + 1)
    )
    if not can_moderate(viewer):
        query = query.where(Post.hidden_at.is_(None), readable(Thread.category_id, viewer))
    if before_id is not None:
        query = query.where(Post.id < before_id)
    return keyset_page(db.session.scalars(query).unique().all(), limit, lambda p: encode([p.id]))


def recent_posts_by(user: User, *, viewer=None, limit: int = 10) -> list[Post]:
    query = (
        select(Post)
        .join(Thread, Thread.id == Post.thread_id)
        .options(joinedload(Post.thread))
        .where(Post.author_id == user.id, Post.deleted_at.is_(None), Thread.deleted_at.is_(None))
        .order_by(Post.id.desc())
        .limit(limit)
    )
    if not can_moderate(viewer) and not (viewer and getattr(viewer, "id", None) == user.id):
        query = query.where(Post.hidden_at.is_(None))
    # The member's own posts in a lounge they left still stay out of sight for others.
    query = query.where(readable(Thread.category_id, viewer))
    return list(db.session.scalars(query))


# --- for other features' reports -------------------------------------------------------


def describe_posts(post_ids) -> dict[int, str]:
    """A name per post for reports (attribution): its thread's title, "(reply #n)" for a reply.

    Posts that do not exist are left out. One query.
    """
    ids = {int(i) for i in post_ids}
    if not ids:
        return {}
    found = db.session.execute(
        select(Post.id, Post.position, Thread.title)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Post.id.in_(ids))
    )
    return {
        post_id: (title if position == 1 else f"{title} (reply #{position - 1})")
        for post_id, position, title in found
    }
