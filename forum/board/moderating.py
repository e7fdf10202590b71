"""Moderators' actions on threads and posts: lock, pin, move, hide; and board's answers
to moderation's questions about posts (describe one, hide or restore one).

Board's own rows, so board's rules; the moderator check, the reason and the audit
entry are moderation's (``moderation.service.check_moderator`` / ``check_reason`` /
``record``), written in the same transaction. Every action needs a reason. Reached
through ``board.service``.
"""

from flask import url_for
from markupsafe import Markup

from .. import realtime, signals
from ..accounts.models import User
from ..clock import now
from ..extensions import db
from ..moderation import service as moderation
from ..moderation.schemas import Target, target_answer
from .models import Category, Post, Thread


def _thread_changed(thread: Thread, what: str) -> None:
    signals.board_changed.send(thread, what=what)
    realtime.announce(
        "thread_changed",
        {"thread_id": thread.id, "locked": thread.locked, "pinned": thread.pinned},
        room=f"thread:{thread.id}",
    )


def _set_flag(
    actor: User, thread: Thread, flag: str, value: bool, on: str, off: str, reason: str
) -> None:
    """A moderator turns ``thread.<flag>`` to ``value`` for a ``reason``: logged (``on``/``off``)
    and announced only when it changes. Forbidden for anyone else."""
    moderation.check_moderator(actor)
    reason = moderation.check_reason(reason)
    if getattr(thread, flag) != value:
        setattr(thread, flag, value)
        moderation.record_on(actor, on if value else off, "thread", thread, reason=reason)
        _thread_changed(thread, f"thread_{flag}")


def set_locked(actor: User, thread: Thread, locked: bool, reason: str = "") -> None:
    _set_flag(actor, thread, "locked", locked, "thread.lock", "thread.unlock", reason)


def set_pinned(actor: User, thread: Thread, pinned: bool, reason: str = "") -> None:
    _set_flag(actor, thread, "pinned", pinned, "thread.pin", "thread.unpin", reason)


def move_thread(actor: User, thread: Thread, category: Category, reason: str = "") -> None:
    moderation.check_moderator(actor)
    reason = moderation.check_reason(reason)
    if thread.category_id == category.id:
        return
    old = thread.category_id
    thread.category_id = category.id
    signals.search_stale.send("thread", ids=[thread.id])
    moderation.record_on(
        actor,
        "thread.move",
        "thread",
        thread,
        reason=reason,
        from_category=old,
        to_category=category.id,
    )
    signals.board_changed.send(thread, what="thread_moved")


def _set_post_hidden(post: Post, hidden: bool, by_id: int | None) -> bool:
    """Hide or show ``post`` (``by_id`` None: held by the system); False if no change."""
    if post.is_hidden == hidden:
        return False
    post.hidden_at = now() if hidden else None
    post.hidden_by_id = by_id if hidden else None
    signals.search_stale.send("post", ids=[post.id])
    signals.board_changed.send(post.thread, what="post_hidden" if hidden else "post_restored")
    realtime.announce(
        "post_hidden" if hidden else "post_restored",
        {"thread_id": post.thread_id, "post_id": post.id},
        room=f"thread:{post.thread_id}",
    )
    return True


def set_hidden(actor: User, post: Post, hidden: bool, reason: str = "") -> None:
    moderation.check_moderator(actor)
    reason = moderation.check_reason(reason)
    if _set_post_hidden(post, hidden, actor.id):
        moderation.record_on(
            actor,
            "post.hide" if hidden else "post.restore",
            "post",
            post,
            reason=reason,
            thread_id=post.thread_id,
        )


def hold_post(post: Post) -> None:
    """A new account's post waits in moderation's queue: hidden (its author and
    moderators still see it) until a moderator decides."""
    _set_post_hidden(post, True, None)
    moderation.hold_for_review("post", post.id, post.author_id)


def _visible_post(target_id: int, viewer) -> Post | None:
    from .service.posts import can_see_post

    post = db.session.get(Post, target_id) if isinstance(target_id, int) else None
    return post if post is not None and can_see_post(post, viewer) else None


@target_answer(_visible_post)
def describe_post(post: Post) -> Target:
    """Moderation's question: the post as its viewer may see it (None: not at all)."""
    return Target(
        kind="post",
        id=post.id,
        author_id=post.author_id,
        url=url_for("board.goto_post", post_id=post.id),
        context=f"in “{post.thread.title}”",
        body_html=Markup(post.body_html),  # noqa: S704 (sanitised when stored)
        hidden=post.is_hidden,
    )


def hide_post(
    kind: str,
    *,
    target_id: int,
    hidden: bool,
    actor=None,
    reason: str = "",
    released: bool = False,
) -> bool:
    """Moderation's decision (or the flag score) hides or restores a post; moderation
    writes the audit entry. ``released``: a held first post approved, so the reply and
    mention notifications it skipped go out now."""
    post = db.session.get(Post, target_id)
    if post is None:
        return False
    shown = _set_post_hidden(post, hidden, actor.id if actor is not None else None)
    if released and shown and not hidden and not post.is_deleted:
        from .service.posts import notify_released

        notify_released(post)
    return True
