"""What members read and wrote on the board, as SELECTs for recommendations (insight
trains on them), so nobody outside the board names its tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, literal, select, union_all

from ...database import select_as
from ..models import Category, Post, Thread, ThreadRead

READ_WEIGHT = 1.0
REPLY_WEIGHT = 3.0


def thread_engagement_sql(before: datetime | None = None) -> Select:
    """``SELECT user_id, thread_id, weight, at``: one row per member and live thread they
    read (weight 1) or wrote in (weight 3, the latest post's time), before ``before``."""
    reads = select_as(
        user_id=ThreadRead.user_id,
        thread_id=ThreadRead.thread_id,
        weight=literal(READ_WEIGHT),
        at=ThreadRead.updated_at,
    )
    posts = select_as(
        user_id=Post.author_id,
        thread_id=Post.thread_id,
        weight=literal(REPLY_WEIGHT),
        at=func.max(Post.created_at),
    ).where(Post.deleted_at.is_(None))
    if before is not None:
        reads = reads.where(ThreadRead.updated_at < before)
        posts = posts.where(Post.created_at < before)
    posts = posts.group_by(Post.author_id, Post.thread_id)
    both = union_all(reads, posts).subquery()
    return (
        select(
            both.c.user_id,
            both.c.thread_id,
            func.max(both.c.weight).label("weight"),
            func.max(both.c.at).label("at"),
        )
        .join(Thread, Thread.id == both.c.thread_id)
        .where(Thread.deleted_at.is_(None))
        .group_by(both.c.user_id, both.c.thread_id)
    )


def recommendable_threads_sql() -> Select:
    """``SELECT thread_id, title, category_id, category, author_id, created_at,
    last_activity_at`` of live threads in categories that are not archived."""
    return (
        select_as(
            thread_id=Thread.id,
            title=Thread.title,
            category_id=Thread.category_id,
            category=Category.name,
            author_id=Thread.author_id,
            created_at=Thread.created_at,
            last_activity_at=Thread.last_activity_at,
        )
        .join(Category, Category.id == Thread.category_id)
        .where(Thread.deleted_at.is_(None), Category.archived.is_(False))
    )
