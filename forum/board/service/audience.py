"""What members wrote on the board, as SQL expressions for other features that compose
them into ONE statement over members (campaigns' segments): each builder takes a
column holding a member id (``User.id`` of the enclosing query) and returns a
correlated boolean, so nobody outside the board names its tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, String, and_, cast, exists, func, or_, select

from ...database import correlated_exists
from ..models import Category, Post, Thread, ThreadRead


def _live_posts_by(user_id):
    return (Post.author_id == user_id, Post.deleted_at.is_(None))


def posted_in_categories_sql(
    user_id, slugs: list[str], since: datetime | None = None
) -> ColumnElement[bool]:
    """The member posted or replied (not deleted) in a category among ``slugs``."""
    statement = (
        select(Post.id)
        .join(Thread, Thread.id == Post.thread_id)
        .join(Category, Category.id == Thread.category_id)
        .where(*_live_posts_by(user_id), Category.slug.in_(slugs))
    )
    if since is not None:
        statement = statement.where(Post.created_at >= since)
    return exists(statement.correlate_except(Post, Thread, Category))


def embedded_in_posts_sql(user_id, refs: list[str]) -> ColumnElement[bool]:
    """A live post by the member embeds one of ``refs`` (``"product:42"``)."""
    text = cast(Post.embeds, String)
    return correlated_exists(
        Post, *_live_posts_by(user_id), or_(*[text.contains(f'"{ref}"') for ref in refs])
    )


def posted_since_sql(user_id, bound: datetime) -> ColumnElement[bool]:
    """The member wrote a post after ``bound``."""
    return correlated_exists(Post, Post.author_id == user_id, Post.created_at > bound)


def posts_between(start: datetime, end: datetime) -> Select:
    """``SELECT author_id, created_at, is_reply`` of live posts written in [start, end)
    (``is_reply``: not the thread's opening post), to aggregate as a subquery."""
    return select(
        Post.author_id.label("author_id"),
        Post.created_at.label("created_at"),
        (Post.position > 1).label("is_reply"),
    ).where(Post.deleted_at.is_(None), Post.created_at >= start, Post.created_at < end)


def first_replies(start: datetime, end: datetime) -> Select:
    """``SELECT thread_id, started_at, first_reply_at`` of live threads started in
    [start, end); ``first_reply_at`` is the first live reply's time, NULL when none."""
    return (
        select(
            Thread.id.label("thread_id"),
            Thread.created_at.label("started_at"),
            func.min(Post.created_at).label("first_reply_at"),
        )
        .outerjoin(
            Post,
            and_(Post.thread_id == Thread.id, Post.position > 1, Post.deleted_at.is_(None)),
        )
        .where(Thread.deleted_at.is_(None), Thread.created_at >= start, Thread.created_at < end)
        .group_by(Thread.id, Thread.created_at)
    )


def readers_of_posts_with(text: str) -> Select:
    """``SELECT user_id, at`` of members who read down to a live, visible post whose body
    holds ``text`` (a coupon code, case-insensitive), not its author; ``at`` is the post's
    time (the board keeps how far a member read, not when each post was seen)."""
    return (
        select(ThreadRead.user_id.label("user_id"), Post.created_at.label("at"))
        .join(Post, Post.thread_id == ThreadRead.thread_id)
        .where(
            Post.position <= ThreadRead.last_read_position,
            Post.deleted_at.is_(None),
            Post.hidden_at.is_(None),
            Post.author_id != ThreadRead.user_id,
            func.lower(Post.body).contains(text.lower(), autoescape=True),
        )
    )
