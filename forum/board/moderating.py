"""Moderators' actions on threads and posts: lock, pin, move, hide.

Board's own rows, so board's rules; the moderator check and the audit entry are
moderation's (``moderation.service.check_moderator`` / ``record``), written in the
same transaction. Reached through ``board.service``.
"""

from .. import realtime, signals
from ..accounts.models import User
from ..clock import now
from ..moderation import service as moderation
from .models import Category, Post, Thread


def _thread_changed(thread: Thread, what: str) -> None:
    signals.board_changed.send(thread, what=what)
    realtime.announce(
        "thread_changed",
        {"thread_id": thread.id, "locked": thread.locked, "pinned": thread.pinned},
        room=f"thread:{thread.id}",
    )


def set_locked(actor: User, thread: Thread, locked: bool) -> None:
    moderation.check_moderator(actor)
    if thread.locked != locked:
        thread.locked = locked
        moderation.record(actor, "thread.lock" if locked else "thread.unlock", "thread", thread.id)
        _thread_changed(thread, "thread_locked")


def set_pinned(actor: User, thread: Thread, pinned: bool) -> None:
    moderation.check_moderator(actor)
    if thread.pinned != pinned:
        thread.pinned = pinned
        moderation.record(actor, "thread.pin" if pinned else "thread.unpin", "thread", thread.id)
        _thread_changed(thread, "thread_pinned")


def move_thread(actor: User, thread: Thread, category: Category) -> None:
    moderation.check_moderator(actor)
    if thread.category_id == category.id:
        return
    old = thread.category_id
    thread.category_id = category.id
    moderation.record(
        actor, "thread.move", "thread", thread.id, from_category=old, to_category=category.id
    )
    signals.board_changed.send(thread, what="thread_moved")


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
    signals.board_changed.send(post.thread, what="post_hidden" if hidden else "post_restored")
    realtime.announce(
        "post_hidden" if hidden else "post_restored",
        {"thread_id": post.thread_id, "post_id": post.id},
        room=f"thread:{post.thread_id}",
    )
