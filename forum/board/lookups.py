"""Reads of the board's threads and categories for other features (reviews' experience
reports and "discussed in" list). Read-only; reached through ``board.service``.
"""

from sqlalchemy import Select, String, cast, select
from sqlalchemy.orm import joinedload

from ..database import rows_by_id
from ..extensions import db
from .models import Category, Post, Thread


def report_categories() -> list[Category]:
    """Categories marked for experience reports, in the board's order."""
    return list(
        db.session.scalars(
            select(Category)
            .where(Category.experience_reports.is_(True))
            .order_by(Category.position, Category.name)
        )
    )


def threads_embedding(key: str, *, limit: int = 10) -> list[Thread]:
    """Threads (latest activity first, not deleted) with a visible post embedding
    ``key`` (``"kind:id"``, e.g. ``"product:42"``), author and category loaded.

    ``Post.embeds`` is a JSON list of ``"kind:id"`` keys, so its text holds the quoted
    key on SQLite and PostgreSQL alike."""
    pattern = f'%"{key}"%'
    posts = select(Post.thread_id).where(
        cast(Post.embeds, String).like(pattern),
        Post.deleted_at.is_(None),
        Post.hidden_at.is_(None),
    )
    return list(
        db.session.scalars(
            select(Thread)
            .options(joinedload(Thread.author), joinedload(Thread.category))
            .where(
                Thread.id.in_(posts),
                Thread.deleted_at.is_(None),
                Thread.category_id.in_(unrestricted_category_ids()),
            )
            .order_by(Thread.last_activity_at.desc(), Thread.id.desc())
            .limit(limit)
        )
    )


def unrestricted_category_ids() -> Select:
    """``SELECT id`` of categories anyone may read: reads with no viewer keep to them."""
    return select(Category.id).where(
        Category.read_roles == "", Category.read_tiers == "", Category.read_min_trust == 0
    )


def live_thread_ids() -> Select:
    """``SELECT id`` of threads not deleted, in categories anyone may read: a SQL
    expression for another feature's own query (``column.in_(live_thread_ids())``), so
    its filter and limit stay one statement without it reading the board's tables."""
    return select(Thread.id).where(
        Thread.deleted_at.is_(None), Thread.category_id.in_(unrestricted_category_ids())
    )


def threads_with_ids(thread_ids) -> dict[int, Thread]:
    """Thread id -> thread (deleted ones too; author loaded) for the ids among
    ``thread_ids``."""
    return rows_by_id(Thread, thread_ids, joinedload(Thread.author))
