"""What members read and wrote on the board, as SELECTs for recommendations (insight
trains on them), so nobody outside the board names its tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, literal, select, union_all

from ..models import Category, Post, Thread, ThreadRead

READ_WEIGHT = 1.0
REPLY_WEIGHT = 3.0


def thread_engagement_sql(before: datetime | None = None) -> Select:
    """``SELECT user_id, thread_id, weight, at``: one row per member and live thread they
    read (weight 1) or wrote in (weight 3, the latest post's time), before ``before``."""
    reads = select(
        ThreadRead.user_id.label("user_id"),
        ThreadRead.thread_id.label("thread_id"),
        literal(READ_WEIGHT).label("weight"),
        ThreadRead.updated_at.label("at"),
    )
    posts = select(
        Post.author_id.label("user_id"),
        Post.thread_id.label("thread_id"),
        literal(REPLY_WEIGHT).label("weight"),
        func.max(Post.created_at).label("at"),
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
        select(
            Thread.id.label("thread_id"),
            Thread.title.label("title"),
            Thread.category_id.label("category_id"),
            Category.name.label("category"),
            Thread.author_id.label("author_id"),
            Thread.created_at.label("created_at"),
            Thread.last_activity_at.label("last_activity_at"),
        )
        .join(Category, Category.id == Thread.category_id)
        .where(Thread.deleted_at.is_(None), Category.archived.is_(False))
    )
