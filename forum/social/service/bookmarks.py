"""Bookmarks: a member keeps a post or a thread to come back to; the list is theirs alone."""

import contextlib
from dataclasses import dataclass
from datetime import datetime

from flask import url_for
from sqlalchemy import delete, select

from ...board import service as board
from ...clock import now
from ...database import insert_ignore
from ...errors import Conflict, NotFound, ValidationFailed
from ...extensions import db
from ...pagination import Page, after_id, encode, keyset_page
from ...permissions import check_member, is_member
from ..models import Bookmark

KINDS = ("post", "thread")


@dataclass(frozen=True)
class Listed:
    """A bookmark as its owner sees it; ``title`` and ``url`` are None when the post or
    thread is gone or no longer readable (the bookmark stays, to be removed)."""

    id: int
    kind: str
    target_id: int
    created_at: datetime
    title: str | None
    url: str | None


def _check_target(user, kind: str, target_id: int) -> None:
    if kind == "post":
        board.visible_post(target_id, viewer=user)
    elif kind == "thread":
        board.get_thread(target_id, viewer=user)
    else:
        raise ValidationFailed(
            "Bookmark a post or a thread.", fields={"kind": ["Choose post or thread."]}
        )


def add_bookmark(user, kind: str, target_id: int) -> Bookmark:
    """Bookmark a post or thread ``user`` can read. NotFound for one they cannot see,
    Conflict ``already_bookmarked`` when it is bookmarked already."""
    check_member(user)
    _check_target(user, kind, target_id)
    added = db.session.execute(
        insert_ignore(
            Bookmark,
            {"user_id": user.id, "kind": kind, "target_id": target_id, "created_at": now()},
            index_elements=["user_id", "kind", "target_id"],
        ).returning(Bookmark.id)
    ).scalar()
    if added is None:
        raise Conflict("You already bookmarked that.", code="already_bookmarked")
    bookmark = db.session.get(Bookmark, added)
    assert bookmark is not None
    return bookmark


def remove_bookmark(user, bookmark_id: int) -> None:
    """Remove one of ``user``'s bookmarks; another member's is NotFound (it is not theirs
    to know about)."""
    check_member(user)
    removed = db.session.execute(
        delete(Bookmark).where(Bookmark.id == bookmark_id, Bookmark.user_id == user.id)
    ).rowcount
    if not removed:
        raise NotFound("No such bookmark.")


def toggle_bookmark(user, kind: str, target_id: int) -> bool:
    """The button: bookmark, or remove the bookmark when there is one; True when now bookmarked."""
    check_member(user)
    existing = db.session.scalar(
        select(Bookmark.id).where(
            Bookmark.user_id == user.id, Bookmark.kind == kind, Bookmark.target_id == target_id
        )
    )
    if existing is not None:
        remove_bookmark(user, existing)
        return False
    with contextlib.suppress(Conflict):  # another tab was first: bookmarked, as asked
        add_bookmark(user, kind, target_id)
    return True


def bookmarked_ids(user, kind: str, target_ids) -> set[int]:
    """Of ``target_ids``, those ``user`` bookmarked (as ``kind``)."""
    ids = {int(i) for i in target_ids}
    if not is_member(user) or not ids:
        return set()
    return set(
        db.session.scalars(
            select(Bookmark.target_id).where(
                Bookmark.user_id == user.id, Bookmark.kind == kind, Bookmark.target_id.in_(ids)
            )
        )
    )


def list_bookmarks(user, cursor: str | None = None, limit: int = 20) -> Page[Listed]:
    """``user``'s bookmarks, newest first, keyset-paged by id (``ix_bookmarks_user_recent``),
    each ``describe``d."""
    check_member(user)
    query = select(Bookmark).where(Bookmark.user_id == user.id)
    if (after := after_id(cursor)) is not None:
        query = query.where(Bookmark.id < after)
    rows = db.session.scalars(query.order_by(Bookmark.id.desc()).limit(limit + 1)).all()
    page = keyset_page(rows, limit, lambda b: encode([b.id]))
    return Page(describe(user, page.items), page.next_cursor)


def describe(user, bookmarks) -> list[Listed]:
    """The bookmarks as ``user`` sees them: titles and links from the board, which also
    says what is still readable (three queries whatever the number)."""
    post_ids = [b.target_id for b in bookmarks if b.kind == "post"]
    readable_posts = board.readable_post_ids(post_ids, viewer=user)
    post_titles = board.describe_posts(readable_posts)
    threads = board.threads_with_ids([b.target_id for b in bookmarks if b.kind == "thread"])
    readable_threads = {
        thread_id
        for thread_id, thread in threads.items()
        if not thread.is_deleted and board.may_read(thread.category, user)
    }
    listed = []
    for b in bookmarks:
        title = url = None
        if b.kind == "post" and b.target_id in readable_posts:
            title = post_titles.get(b.target_id)
            url = url_for("board.goto_post", post_id=b.target_id)
        elif b.kind == "thread" and b.target_id in readable_threads:
            title = threads[b.target_id].title
            url = url_for("board.thread", thread_id=b.target_id)
        listed.append(Listed(b.id, b.kind, b.target_id, b.created_at, title, url))
    return listed
