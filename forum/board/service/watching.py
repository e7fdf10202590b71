"""Watching: a member's notification level per thread and per category.

``watching``: told of every new post. ``tracking`` and ``normal``: told when mentioned
or replied to (and, for a thread's author, of replies), tracked threads' unread counts
show in lists as every opened thread's do. ``muted``: never told anything about the
thread. A thread's own level wins over its category's; replying to a thread with no
level of one's own sets ``tracking``.
"""

from sqlalchemy import and_, exists, select, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ...clock import now
from ...errors import field_error
from ...extensions import db
from ...permissions import is_member
from ..models import Category, CategoryWatch, Post, Thread, ThreadWatch

LEVELS = ("watching", "tracking", "normal", "muted")
DEFAULT = "normal"


def _check(level) -> str:
    if level not in LEVELS:
        raise field_error("level", "Use watching, tracking, normal or muted.")
    return level


def _upsert(model, keys: dict, level: str, *, overwrite: bool = True) -> None:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(model).values(**keys, level=level, updated_at=now())
    if overwrite:
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={"level": level, "updated_at": now()}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(keys))
    db.session.execute(statement)


def set_thread_level(user, thread: Thread, level) -> str:
    _upsert(ThreadWatch, {"user_id": user.id, "thread_id": thread.id}, _check(level))
    return level


def set_category_level(user, category: Category, level) -> str:
    _upsert(CategoryWatch, {"user_id": user.id, "category_id": category.id}, _check(level))
    return level


def track_on_reply(post: Post, thread: Thread) -> None:
    """Replying tracks the thread, unless the member already chose a level for it."""
    if post.position > 1:
        _upsert(
            ThreadWatch,
            {"user_id": post.author_id, "thread_id": thread.id},
            "tracking",
            overwrite=False,
        )


def thread_level(viewer, thread: Thread) -> str:
    """The level that applies to ``viewer`` in ``thread``: its own, else its category's."""
    if not is_member(viewer):
        return DEFAULT
    own = db.session.get(ThreadWatch, (viewer.id, thread.id))
    if own is not None:
        return own.level
    return category_level(viewer, thread.category)


def category_level(viewer, category: Category) -> str:
    if not is_member(viewer):
        return DEFAULT
    row = db.session.get(CategoryWatch, (viewer.id, category.id))
    return row.level if row is not None else DEFAULT


def users_at(thread: Thread, level: str) -> set[int]:
    """Ids of the members whose level in ``thread`` is ``level`` (thread's, else category's)."""
    return users_by_level(thread, level)[level]


def users_by_level(thread: Thread, *levels: str) -> dict[str, set[int]]:
    """``{level: ids}`` of the members at each of ``levels`` in ``thread`` (the thread's
    own level, else the category's), in one query."""
    own = select(ThreadWatch.user_id, ThreadWatch.level).where(
        ThreadWatch.thread_id == thread.id, ThreadWatch.level.in_(levels)
    )
    by_category = select(CategoryWatch.user_id, CategoryWatch.level).where(
        CategoryWatch.category_id == thread.category_id,
        CategoryWatch.level.in_(levels),
        ~exists().where(
            and_(ThreadWatch.thread_id == thread.id, ThreadWatch.user_id == CategoryWatch.user_id)
        ),
    )
    found: dict[str, set[int]] = {level: set() for level in levels}
    for user_id, level in db.session.execute(union(own, by_category)):
        found[level].add(user_id)
    return found
