"""Threads: who sees them, the keyset-paginated list, starting one."""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, literal, select, tuple_, update
from sqlalchemy.orm import joinedload, selectinload

from ... import realtime, signals
from ...accounts.models import User
from ...clock import now
from ...database import UTCDateTime, newest_first
from ...errors import Conflict, Forbidden, NotFound, field_error
from ...extensions import db
from ...moderation import service as moderation
from ...pagination import Page, decode, encode, keyset_page
from ...permissions import can_moderate
from ..models import Category, Post, Thread, ThreadTitleRevision
from .access import check_can_post_in, may_read, readable
from .common import check_can_post, check_title, render_body
from .posts import _add_post

# --- threads -----------------------------------------------------------------------


def _held_opening(viewer):
    """Threads whose opening post the system holds (first-post queue, flag score):
    seen only by their author and moderators."""
    held = (
        select(Post.id)
        .where(
            Post.thread_id == Thread.id,
            Post.position == 1,
            Post.hidden_at.is_not(None),
            Post.hidden_by_id.is_(None),
        )
        .exists()
    )
    viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else None
    return and_(held, Thread.author_id != viewer_id) if viewer_id else held


def visible_threads(viewer=None):
    query = select(Thread)
    if not can_moderate(viewer):
        query = query.where(
            Thread.deleted_at.is_(None),
            ~_held_opening(viewer),
            readable(Thread.category_id, viewer),
        )
    return query


def get_thread(thread_id: int, viewer=None) -> Thread:
    thread = db.session.get(Thread, thread_id)
    if (
        thread is None
        or not may_read(thread.category, viewer)
        or (
            not can_moderate(viewer)
            and (
                thread.is_deleted
                or db.session.scalar(select(_held_opening(viewer)).where(Thread.id == thread.id))
            )
        )
    ):
        raise NotFound("No such thread.")
    return thread


def list_threads(
    category: Category | None, *, cursor: str | None = None, limit: int = 25, viewer=None
) -> Page:
    """Pinned first, then latest activity; keyset-paginated so deep pages stay fast."""
    query = visible_threads(viewer).options(
        joinedload(Thread.author), joinedload(Thread.last_poster)
    )
    if category is not None:
        query = query.where(Thread.category_id == category.id)
    else:  # the front page names each thread's category: one query, not one per category
        query = query.options(selectinload(Thread.category))
    after = decode(cursor, 3)
    if after is not None:
        try:
            pinned, when, last_id = bool(after[0]), datetime.fromisoformat(after[1]), int(after[2])
        except (TypeError, ValueError):
            raise field_error("cursor", "That cursor is not valid.") from None
        if when.tzinfo is None:
            raise field_error("cursor", "That cursor is not valid.")
        # One row comparison in the index's own order (false < true, so past the last
        # pinned thread come all the unpinned ones): the database bounds the index range
        # with it, where ``a < w OR (a = w AND id < i)`` made it filter from the start.
        # In a category the row leads with the category, so it is the listing index's own.
        keys: list[Any] = [Thread.pinned, Thread.last_activity_at, Thread.id]
        bounds: list[Any] = [literal(pinned), literal(when, UTCDateTime), literal(last_id)]
        if category is not None:
            keys.insert(0, Thread.category_id)
            bounds.insert(0, literal(category.id))
        query = query.where(tuple_(*keys) < tuple_(*bounds))
    query = query.order_by(
        Thread.pinned.desc(), Thread.last_activity_at.desc(), Thread.id.desc()
    ).limit(limit + 1)
    return keyset_page(
        db.session.scalars(query).unique().all(),
        limit,
        lambda last: encode([last.pinned, last.last_activity_at.isoformat(), last.id]),
    )


def create_thread(
    author: User, category: Category, title, body, *, experience_report: bool = False
) -> Thread:
    """Start a thread. A category marked for experience reports takes only reports,
    each tied to one of its author's completed purchases: those are started by the
    reviews service (``experience_report=True``) once its rules passed; anything else
    there is Forbidden ``purchase_required`` (nothing written)."""
    if category.experience_reports and not experience_report:
        raise Forbidden(
            "This category takes experience reports about your own completed purchases:"
            " choose the purchase in the report form.",
            code="purchase_required",
        )
    title = check_title(title)
    rendered = render_body(body)
    check_can_post_in(author, category)
    check_can_post(author, rendered)
    thread = Thread(
        category_id=category.id, author_id=author.id, title=title, last_activity_at=now()
    )
    db.session.add(thread)
    db.session.flush()
    _add_post(author, thread, body, rendered, reply_to=None)
    db.session.execute(
        update(Category)
        .where(Category.id == category.id)
        .values(thread_count=Category.thread_count + 1)
    )
    return thread


def first_post(thread: Thread) -> Post | None:
    return db.session.scalar(select(Post).where(Post.thread_id == thread.id, Post.position == 1))


def check_can_rename(actor: User, thread: Thread) -> None:
    """Forbidden unless ``actor`` wrote ``thread`` (and it is not locked) or moderates;
    Conflict for a deleted thread."""
    if getattr(actor, "id", None) != thread.author_id and not can_moderate(actor):
        raise Forbidden("Only the author or a moderator can change the title.")
    if thread.is_deleted:
        raise Conflict("This thread was deleted.", code="thread_deleted")
    if thread.locked and not can_moderate(actor):
        raise Forbidden("This thread is locked.", code="thread_locked")


def rename_thread(actor: User, thread: Thread, title, reason: str = "") -> Thread:
    """Change ``thread``'s title, keeping the old one as a revision.

    The author may (not in a locked thread); a moderator may rename anyone's thread
    with a reason (``moderation.check_reason``; audited, the author sees it). Raises
    Forbidden for anyone else, ValidationFailed on ``title`` (empty, too short or too
    long) or ``reason``, Conflict for a deleted thread; nothing is written then. The
    search document and anonymous readers' cached lists are refreshed."""
    check_can_rename(actor, thread)
    is_author = actor.id == thread.author_id
    title = check_title(title)
    if not is_author:
        reason = moderation.check_reason(reason)
    if title == thread.title:
        return thread
    old = thread.title
    db.session.add(
        ThreadTitleRevision(
            thread_id=thread.id, editor_id=actor.id, title=old, reason="" if is_author else reason
        )
    )
    thread.title = title
    db.session.flush()
    if not is_author:
        moderation.record_on(
            actor, "thread.rename", "thread", thread, reason=reason, old_title=old, new_title=title
        )
    signals.search_stale.send("thread", ids=[thread.id])
    signals.board_changed.send(thread, what="thread_renamed")
    realtime.announce(
        "thread_renamed", {"thread_id": thread.id, "title": title}, room=f"thread:{thread.id}"
    )
    return thread


def title_revisions(thread: Thread) -> list[ThreadTitleRevision]:
    """The thread's earlier titles, newest first."""
    return newest_first(ThreadTitleRevision.thread_id, thread.id)
