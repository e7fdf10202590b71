"""Moderators' actions on threads and posts: lock, pin, move, hide.

Board's own rows, so board's rules; the moderator check and the audit entry are
moderation's (``moderation.service.check_moderator`` / ``record``), written in the
same transaction. Reached through ``board.service``.
"""

from .. import realtime
from ..accounts.models import User
from ..clock import now
from ..moderation import service as moderation
from .models import Category, Post, Thread


def _thread_changed(thread: Thread) -> None:
    realtime.announce(
        "thread_changed",
        {"thread_id": thread.id, "locked": thread.locked, "pinned": thread.pinned},
        room=f"thread:{thread.id}",
    )


def _set_flag(actor: User, thread: Thread, flag: str, value: bool, on: str, off: str) -> None:
    """A moderator turns ``thread.<flag>`` to ``value``: logged (``on``/``off``) and
    announced only when it changes. Forbidden for anyone else."""
    moderation.check_moderator(actor)
    if getattr(thread, flag) != value:
        setattr(thread, flag, value)
        moderation.record(actor, on if value else off, "thread", thread.id)
        _thread_changed(thread)


def set_locked(actor: User, thread: Thread, locked: bool) -> None:
    _set_flag(actor, thread, "locked", locked, "thread.lock", "thread.unlock")


def set_pinned(actor: User, thread: Thread, pinned: bool) -> None:
    _set_flag(actor, thread, "pinned", pinned, "thread.pin", "thread.unpin")


def move_thread(actor: User, thread: Thread, category: Category) -> None:
    moderation.check_moderator(actor)
    if thread.category_id == category.id:
        return
    old = thread.category_id
    thread.category_id = category.id
    moderation.record(
        actor, "thread.move", "thread", thread.id, from_category=old, to_category=category.id
    )


def set_hidden(actor: User, post: Post, hidden: bool, reason: str = "") -> None:
    moderation.check_moderator(actor)
    if post.is_hidden == hidden:
        return
    post.hidden_at = now() if hidden else None
    post.hidden_by_id = actor.id if hidden else None
    moderation.record(
        actor,
        "post.hide" if hidden else "post.restore",
        "post",
        post.id,
        thread_id=post.thread_id,
        reason=reason[:200],
    )
    realtime.announce(
        "post_hidden" if hidden else "post_restored",
        {"thread_id": post.thread_id, "post_id": post.id},
        room=f"thread:{post.thread_id}",
    )
