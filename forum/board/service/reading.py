"""Reading: how far each member has read each thread, what is new or unread for them,
the Latest / New / Unread / Top lists and the jump to the first unread post.

A thread is *new* for a member who never opened it (and did not start it) while it is
younger than ``NEW_FOR``; it is *unread* once opened and posts came after the last one
read. Marks only move forward (a stale tab cannot un-read a thread), in one upsert, so
concurrent marks keep the highest position.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from ... import signals
from ...clock import now
from ...errors import NotFound, field_error
from ...extensions import db
from ...notifications import service as notifications
from ...pagination import Page, decode, encode, keyset_page, limit_from
from ...permissions import is_member
from ..models import Category, Post, Thread, ThreadRead
from .posts import can_see_post
from .threads import list_threads, visible_threads

NEW_FOR = timedelta(days=14)
VIEWS = ("latest", "new", "unread", "top")
PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30), "year": timedelta(days=365)}


@dataclass(frozen=True)
class ReadState:
    """One thread as one member sees it in a list."""

    is_new: bool
    unread: int  # posts after the last one read (0 when never opened or caught up)


def mark_read(user, thread: Thread, position) -> ThreadRead:
    """Record that ``user`` has read ``thread`` up to post ``position`` (never backwards):
    the read beacon's (and the API's) act, so ``signals.thread_read`` tells trust."""
    if isinstance(position, bool) or not isinstance(position, int):
        raise field_error("position", "Give the position of the last post read.")
    if not 1 <= position <= thread.post_count:
        raise field_error("position", f"Use a post position from 1 to {thread.post_count}.")
    _move_mark(user, thread, position)
    signals.thread_read.send(thread, reader=user, position=position)
    mark = db.session.get(ThreadRead, (user.id, thread.id), populate_existing=True)
    assert mark is not None
    return mark


def _move_mark(user, thread: Thread, position: int) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    at = now()
    statement = insert(ThreadRead).values(
        user_id=user.id, thread_id=thread.id, last_read_position=position, updated_at=at
    )
    statement = statement.on_conflict_do_update(
        index_elements=[ThreadRead.user_id, ThreadRead.thread_id],
        set_={
            "last_read_position": case(
                (
                    statement.excluded.last_read_position > ThreadRead.last_read_position,
                    statement.excluded.last_read_position,
                ),
                else_=ThreadRead.last_read_position,
            ),
            "updated_at": at,
        },
    )
    db.session.execute(statement)
    # Reading the thread is seeing what the bell said about it (grouped per thread).
    notifications.mark_seen(user.id, target=f"thread:{thread.id}")


def mark_own_post(post: Post, thread: Thread) -> None:
    """Writing a post means having read the thread up to it (``post_created`` receiver;
    trust counts the post itself, not a read)."""
    _move_mark(post.author, thread, post.position)


def read_states(viewer, threads: list[Thread]) -> dict[int, ReadState]:
    """``{thread_id: ReadState}`` for the threads of one list, in one query."""
    if not is_member(viewer) or not threads:
        return {}
    rows = db.session.execute(
        select(ThreadRead.thread_id, ThreadRead.last_read_position).where(
            ThreadRead.user_id == viewer.id,
            ThreadRead.thread_id.in_([t.id for t in threads]),
        )
    )
    marks: dict[int, int] = {thread_id: read for thread_id, read in rows}
    since = now() - NEW_FOR
    states = {}
    for thread in threads:
        read = marks.get(thread.id)
        if read is None:
            fresh = thread.author_id != viewer.id and thread.created_at >= since
            states[thread.id] = ReadState(is_new=fresh, unread=0)
        else:
            states[thread.id] = ReadState(is_new=False, unread=max(0, thread.post_count - read))
    return states


def first_unread_post(viewer, thread: Thread) -> Post | None:
    """The post to open ``thread`` at: the one after the last read (the last post when
    caught up, the first when never opened); None when the viewer can see none."""
    start = 1
    if is_member(viewer):
        read = db.session.scalar(
            select(ThreadRead.last_read_position).where(
                ThreadRead.user_id == viewer.id, ThreadRead.thread_id == thread.id
            )
        )
        if read is not None:
            start = min(read + 1, max(1, thread.post_count))
    for query in (
        select(Post)
        .where(Post.thread_id == thread.id, Post.position >= start)
        .order_by(Post.position),
        select(Post)
        .where(Post.thread_id == thread.id, Post.position < start)
        .order_by(Post.position.desc()),
    ):
        for post in db.session.scalars(query.limit(50)):
            if can_see_post(post, viewer) and not post.is_deleted:
                return post
    return None


def thread_list(
    view: str,
    category: Category | None,
    *,
    viewer=None,
    cursor: str | None = None,
    limit: int = 25,
    period: str | None = None,
) -> Page:
    """One of the front page's (or a category's) lists, keyset-paginated.

    ``latest``: pinned first, then latest activity. ``new`` / ``unread``: the viewer's
    (empty for visitors), latest activity first. ``top``: threads started in the last
    week / month / year, most replies first."""
    if view not in VIEWS:
        raise NotFound("No such list.")
    if view == "latest":
        return list_threads(category, cursor=cursor, limit=limit, viewer=viewer)
    if view == "top":
        return _top(category, period or "week", viewer=viewer, cursor=cursor, limit=limit)
    if not is_member(viewer):
        return Page([], None)
    query = _base(category, viewer)
    mark = select(ThreadRead).where(
        ThreadRead.user_id == viewer.id, ThreadRead.thread_id == Thread.id
    )
    if view == "new":
        query = query.where(
            ~exists(mark), Thread.author_id != viewer.id, Thread.created_at >= now() - NEW_FOR
        )
    else:
        query = query.where(exists(mark.where(ThreadRead.last_read_position < Thread.post_count)))
    after = decode(cursor, 2)
    if after is not None:
        when, last_id = _cursor_values(after, datetime.fromisoformat)
        query = query.where(_before(Thread.last_activity_at, when, last_id))
    query = query.order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(limit + 1)
    return keyset_page(
        db.session.scalars(query).unique().all(),
        limit,
        lambda last: encode([last.last_activity_at.isoformat(), last.id]),
    )


@dataclass
class Listing:
    """A thread list as a page shows it: which list, its page, the viewer's read states."""

    view: str
    period: str
    page: Page
    states: dict[int, ReadState]


def listing(args, category: Category | None, *, viewer=None, default_limit: int = 25) -> Listing:
    """The list a page's query string (``view``, ``period``, ``cursor``, ``limit``) asks for."""
    view = args.get("view", "latest")
    page = thread_list(
        view,
        category,
        viewer=viewer,
        cursor=args.get("cursor"),
        limit=limit_from(args.get("limit"), default_limit),
        period=args.get("period"),
    )
    return Listing(view, args.get("period", "week"), page, read_states(viewer, page.items))


def _base(category: Category | None, viewer):
    query = visible_threads(viewer).options(
        joinedload(Thread.author), joinedload(Thread.last_poster), joinedload(Thread.category)
    )
    if category is not None:
        query = query.where(Thread.category_id == category.id)
    return query


def _before(column, value, last_id: int):
    """Rows after (``column``, id) = (``value``, ``last_id``) in descending order."""
    return or_(column < value, and_(column == value, Thread.id < last_id))


def _cursor_values(after: list, first):
    try:
        return first(after[0]), int(after[1])
    except (TypeError, ValueError):
        raise field_error("cursor", "That cursor is not valid.") from None


def _top(category, period: str, *, viewer, cursor, limit) -> Page:
    if period not in PERIODS:
        raise field_error("period", "Use week, month or year.")
    query = _base(category, viewer).where(Thread.created_at >= now() - PERIODS[period])
    after = decode(cursor, 2)
    if after is not None:
        replies, last_id = _cursor_values(after, int)
        query = query.where(_before(Thread.reply_count, replies, last_id))
    query = query.order_by(Thread.reply_count.desc(), Thread.id.desc()).limit(limit + 1)
    return keyset_page(
        db.session.scalars(query).unique().all(),
        limit,
        lambda last: encode([last.reply_count, last.id]),
    )
