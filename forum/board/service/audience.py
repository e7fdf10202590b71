"""What members wrote on the board, as SQL expressions for other features that compose
them into ONE statement over members (campaigns' segments): each builder takes a
column holding a member id (``User.id`` of the enclosing query) and returns a
correlated boolean, so nobody outside the board names its tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, String, cast, exists, or_, select

from ..models import Category, Post, Thread


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
    return exists(
        select(Post.id)
        .where(*_live_posts_by(user_id), or_(*[text.contains(f'"{ref}"') for ref in refs]))
        .correlate_except(Post)
    )


def posted_since_sql(user_id, bound: datetime) -> ColumnElement[bool]:
    """The member wrote a post after ``bound``."""
    return exists(
        select(Post.id)
        .where(Post.author_id == user_id, Post.created_at > bound)
        .correlate_except(Post)
    )
