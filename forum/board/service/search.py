"""What search may index and show of the board, a member's recent posts, and the names
other features' reports give posts."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...accounts.models import User
from ...extensions import db
from ...markup import plain_text
from ...pagination import id_batch
from ...permissions import can_moderate
from ..models import Category, Post, Thread
from .access import hidden_category_ids, readable
from .posts import can_see_post

# --- what search may index and show (forum.search asks) --------------------------------


def search_documents(ids=None, *, after: int = 0, limit: int = 1000):
    """Search documents for posts (``ids``, or the next ``limit`` posts past ``after``):
    a thread's opening post is the thread (its title and text), every other post a
    reply under its thread's title. Deleted posts and posts of deleted threads are not
    searchable; hidden ones are marked so. Returns (documents, the last post id
    scanned when more may follow, else None)."""
    query = (
        select(Post, Thread)
        .join(Thread, Thread.id == Post.thread_id)
        .where(Post.deleted_at.is_(None), Thread.deleted_at.is_(None))
    )
    rows, last = id_batch(query, Post.id, ids, after=after, limit=limit, pairs=True)
    return [_document(post, thread) for post, thread in rows], last


def post_document(post: Post, thread: Thread):
    """The search document of a post just written, from the objects in hand (no read
    back): the same rule as ``search_documents``."""
    if post.deleted_at is not None or thread.deleted_at is not None:
        return None
    return _document(post, thread)


def _document(post: Post, thread: Thread):
    from ...search.schemas import Document

    opening = post.position == 1
    return Document(
        source="post",
        source_id=post.id,
        kind="thread" if opening else "post",
        ref_id=thread.id if opening else post.id,
        url=url_for("board.thread", thread_id=thread.id)
        if opening
        else url_for("board.goto_post", post_id=post.id),
        title=thread.title if opening else "",
        body=plain_text(post.body_html),
        label=thread.title,
        category_id=thread.category_id,
        author_id=post.author_id,
        has_offer=bool(post.embeds),
        hidden=post.hidden_at is not None,
        created_at=post.created_at,
    )


def readable_category_ids(viewer=None) -> set[int] | None:
    """The categories ``viewer`` may read (``access``' rules), None for all of them."""
    hidden = hidden_category_ids(viewer)
    if not hidden:
        return None
    return set(db.session.scalars(select(Category.id).where(Category.id.not_in(hidden))))


def readable_post_ids(post_ids, viewer=None) -> set[int]:
    """Of ``post_ids``, the posts ``viewer`` may read (``can_see_post``, and the
    category rule)."""
    ids = {int(i) for i in post_ids}
    if not ids:
        return set()
    readable = readable_category_ids(viewer)
    posts = db.session.scalars(
        select(Post).options(joinedload(Post.thread)).where(Post.id.in_(ids))
    )
    return {
        post.id
        for post in posts
        if can_see_post(post, viewer) and (readable is None or post.thread.category_id in readable)
    }


def thread_post_ids(thread_ids) -> list[int]:
    """Every post of those threads (what search re-reads when a thread moves or goes)."""
    ids = [int(i) for i in thread_ids]
    return list(db.session.scalars(select(Post.id).where(Post.thread_id.in_(ids))))


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
