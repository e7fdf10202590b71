"""Posts: replies, visibility, edits and revisions, deletion, likes, paging a thread."""

from flask import current_app, url_for
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ... import markup, realtime, signals
from ...accounts.models import User
from ...clock import now
from ...database import newest_first, next_in_sequence, update_row
from ...errors import Conflict, Forbidden, NotFound, field_error
from ...extensions import db
from ...moderation import service as moderation
from ...notifications import service as notifications
from ...pagination import Page, decode, encode, keyset_page
from ...permissions import can_moderate
from ...trust import service as trust
from ..models import Category, Post, PostLike, PostRevision, Thread
from ..moderating import hold_post
from . import watching
from .access import check_can_post_in, may_read
from .common import check_can_post, render_body

# --- posts -------------------------------------------------------------------------


def _add_post(
    author: User, thread: Thread, body: str, rendered: markup.Rendered, reply_to: Post | None
) -> Post:
    at = now()
    held = moderation.holds_new_post(author)  # before this post is counted
    position = next_in_sequence(thread, Thread.post_count)
    post = Post(
        thread_id=thread.id,
        author_id=author.id,
        position=position,
        reply_to_id=reply_to.id if reply_to else None,
        body=body,
        body_html=rendered.html,
        embeds=[ref.key for ref in rendered.embeds],
        created_at=at,
    )
    db.session.add(post)
    db.session.flush()
    update_row(
        thread,
        reply_count=Thread.post_count - 1,
        last_activity_at=at,
        last_post_id=post.id,
        last_poster_id=author.id,
    )
    db.session.execute(
        update(User).where(User.id == author.id).values(post_count=User.post_count + 1)
    )
    db.session.refresh(thread)
    if held:
        # A new account's first posts wait for a moderator: nobody else sees them, so
        # nobody is told of them either.
        hold_post(post)
    else:
        _notify_for_post(author, thread, post, rendered.mentions, reply_to)
    signals.post_created.send(post, thread=thread)  # attribution: a person's first act
    # Last: every reply in the category waits for this row's lock (PostgreSQL) until the
    # commit, so it is taken when nothing but the commit is left.
    db.session.execute(
        update(Category)
        .where(Category.id == thread.category_id)
        .values(post_count=Category.post_count + 1)
    )
    return post


def notify_released(post: Post) -> None:
    """A held post a moderator let through: the notifications it skipped when written."""
    reply_to = db.session.get(Post, post.reply_to_id) if post.reply_to_id else None
    mentions = render_body(post.body).mentions
    _notify_for_post(post.author, post.thread, post, mentions, reply_to)


def _post_url(post: Post) -> str:
    return url_for("board.goto_post", post_id=post.id)


def _notify_for_post(
    author: User, thread: Thread, post: Post, mentions: list[str], reply_to: Post | None
) -> None:
    # Whoever muted the thread (or its category) is never told (forum.board watching).
    levels = watching.users_by_level(thread, "muted", "watching")
    told: set[int] = {author.id} | levels["muted"]
    url = _post_url(post)
    # Grouped per thread while unread: thirteen replies ring the bell once, naming who.
    target = f"thread:{thread.id}"
    excerpt = markup.excerpt(post.body_html)
    notifications.notify_mentioned(
        author,
        mentions,
        "mention",
        f"{author.username} mentioned you in “{thread.title}”",
        url,
        told=told,
        may_see=lambda user: may_read(thread.category, user),
        action=f"mentioned you in “{thread.title}”",
        target=target,
    )
    replied_to = [(reply_to.author_id, "replied to your post in")] if reply_to is not None else []
    if post.position > 1:
        replied_to.append((thread.author_id, "replied in"))
    for user_id, what in replied_to:  # the quoted author first, each member told once
        if user_id in told:
            continue
        notifications.notify_group(
            user_id,
            "reply",
            f"{what} “{thread.title}”",
            url,
            actor=author,
            target=target,
            excerpt=excerpt,
        )
        told.add(user_id)
    watchers = levels["watching"] - told
    if watchers and not may_read(thread.category, None):  # a lounge: only who may read it
        members = db.session.scalars(select(User).where(User.id.in_(watchers)))
        watchers = {user.id for user in members if may_read(thread.category, user)}
    for user_id in sorted(watchers):
        notifications.notify_group(
            user_id,
            "watching",
            f"posted in “{thread.title}”",
            url,
            actor=author,
            target=target,
            excerpt=excerpt,
        )


def reply(author: User, thread: Thread, body, *, reply_to_id: int | None = None) -> Post:
    """Add a post to ``thread``. Raises Forbidden(thread_locked) unless a moderator."""
    if thread.is_deleted:
        raise NotFound("No such thread.")
    if thread.locked and not can_moderate(author):
        raise Forbidden("This thread is locked.", code="thread_locked")
    rendered = render_body(body)
    reply_to = None
    if reply_to_id is not None:
        reply_to = db.session.get(Post, reply_to_id)
        if reply_to is None or reply_to.thread_id != thread.id:
            raise field_error("reply_to", "You can only reply to a post in this thread.")
    check_can_post_in(author, thread.category)
    check_can_post(author, rendered)
    post = _add_post(author, thread, body, rendered, reply_to)
    if post.is_hidden:
        return post
    realtime.announce(
        "post_created",
        {"thread_id": thread.id, "post_id": post.id, "position": post.position},
        room=f"thread:{thread.id}",
    )
    return post


def visible_post(post_id: int, viewer=None) -> Post:
    """The post ``viewer`` may read, or NotFound: every route that reads a post, its
    source or its revisions (page, API, moderation) looks it up through here."""
    post = db.session.get(Post, post_id)
    if post is None or not can_see_post(post, viewer):
        raise NotFound("No such post.")
    return post


get_post = visible_post  # the older name, for callers not yet renamed


def post_to_change(post_id: int, actor) -> Post:
    """The post ``actor`` means to edit or delete. Reading follows ``visible_post``; only
    its own author is told a deleted post was deleted (409) rather than not found."""
    post = db.session.get(Post, post_id)
    if (
        post is not None
        and post.is_deleted
        and not post.thread.is_deleted
        and getattr(actor, "is_authenticated", False)
        and actor.id == post.author_id
    ):
        raise Conflict("This post was deleted.", code="post_deleted")
    return visible_post(post_id, actor)


def can_see_post(post: Post, viewer) -> bool:
    """The one visibility rule. Moderators see everything; otherwise a deleted post or
    a post of a deleted thread is gone, and a hidden one is its author's alone."""
    if can_moderate(viewer):
        return True
    if post.thread.is_deleted or post.is_deleted or not may_read(post.thread.category, viewer):
        return False
    if post.is_hidden:
        return bool(
            viewer and getattr(viewer, "is_authenticated", False) and viewer.id == post.author_id
        )
    return True


def check_can_change(actor: User, post: Post) -> None:
    if post.author_id != actor.id and not can_moderate(actor):
        raise Forbidden("Only the author or a moderator can change this post.")
    if post.is_deleted:
        raise Conflict("This post was deleted.", code="post_deleted")
    if post.thread.locked and not can_moderate(actor):
        raise Forbidden("This thread is locked.", code="thread_locked")


def edit_post(actor: User, post: Post, body) -> Post:
    check_can_change(actor, post)
    rendered = render_body(body)
    if body == post.body:
        return post
    trust.check_post_content(actor, rendered.html, rendered.mentions)
    db.session.add(PostRevision(post_id=post.id, editor_id=actor.id, body=post.body))
    post.body = body
    post.body_html = rendered.html
    post.embeds = [ref.key for ref in rendered.embeds]
    post.edited_at = now()
    db.session.flush()
    signals.search_stale.send("post", ids=[post.id])
    signals.board_changed.send(post.thread, what="post_edited")
    realtime.announce(
        "post_edited",
        {"thread_id": post.thread_id, "post_id": post.id},
        room=f"thread:{post.thread_id}",
    )
    return post


def revisions(post: Post) -> list[PostRevision]:
    return newest_first(PostRevision.post_id, post.id)


def delete_post(actor: User, post: Post, reason: str = "") -> None:
    """Soft delete; deleting a thread's first post deletes the thread. A moderator
    deleting someone else's post gives a reason (ValidationFailed before anything
    changes); it goes in the audit log."""
    check_can_change(actor, post)
    by_moderator = actor.id != post.author_id
    if by_moderator:
        reason = moderation.check_reason(reason)
    post.deleted_at = now()
    post.deleted_by_id = actor.id
    if post.position == 1:
        post.thread.deleted_at = post.deleted_at
    if post.position == 1:
        signals.search_stale.send("thread", ids=[post.thread_id])
    else:
        signals.search_stale.send("post", ids=[post.id])
    if by_moderator:
        moderation.record_on(
            actor, "post.delete", "post", post, reason=reason, thread_id=post.thread_id
        )
    signals.board_changed.send(post.thread, what="post_deleted")
    realtime.announce(
        "post_deleted",
        {"thread_id": post.thread_id, "post_id": post.id},
        room=f"thread:{post.thread_id}",
    )


def like(user: User, post: Post) -> int:
    """Like ``post`` once; returns the new count. Raises Conflict(already_liked)."""
    if post.is_deleted or post.is_hidden:
        raise NotFound("No such post.")
    try:
        with db.session.begin_nested():
            db.session.execute(
                insert(PostLike).values(post_id=post.id, user_id=user.id, created_at=now())
            )
    except IntegrityError:
        raise Conflict("You already like this post.", code="already_liked") from None
    update_row(post, like_count=Post.like_count + 1)
    db.session.refresh(post)
    signals.post_liked.send(post, liker=user, liked=True)
    return post.like_count


def unlike(user: User, post: Post) -> int:
    removed = db.session.execute(
        delete(PostLike).where(PostLike.post_id == post.id, PostLike.user_id == user.id)
    ).rowcount
    if removed:
        update_row(post, like_count=Post.like_count - 1)
    db.session.refresh(post)
    if removed:
        signals.post_liked.send(post, liker=user, liked=False)
    return post.like_count


def liked_post_ids(user, post_ids: list[int]) -> set[int]:
    if not user or not getattr(user, "is_authenticated", False) or not post_ids:
        return set()
    return set(
        db.session.scalars(
            select(PostLike.post_id).where(
                PostLike.user_id == user.id, PostLike.post_id.in_(post_ids)
            )
        )
    )


def page_count(thread: Thread) -> int:
    per_page = current_app.config["POSTS_PER_PAGE"]
    return max(1, -(-thread.post_count // per_page))


def posts_on_page(thread: Thread, page: int, viewer=None) -> list[Post]:
    """Posts at positions ((page-1)*n, page*n]: a range scan on (thread_id, position)."""
    per_page = current_app.config["POSTS_PER_PAGE"]
    start = (page - 1) * per_page
    query = (
        select(Post)
        .options(joinedload(Post.author), joinedload(Post.reply_to))
        .where(
            Post.thread_id == thread.id, Post.position > start, Post.position <= start + per_page
        )
        .order_by(Post.position)
    )
    # A deleted post keeps its place as a "This post was deleted." note (no body shown).
    return [
        post for post in db.session.scalars(query) if post.is_deleted or can_see_post(post, viewer)
    ]


def posts_after(thread: Thread, *, cursor: str | None, limit: int, viewer=None) -> Page:
    """API pagination: posts after the cursor's position, oldest first."""
    after = decode(cursor, 1)
    position = 0
    if after is not None:
        try:
            position = int(after[0])
        except (TypeError, ValueError):
            raise field_error("cursor", "That cursor is not valid.") from None
    query = (
        select(Post)
        .options(joinedload(Post.author))
        .where(Post.thread_id == thread.id, Post.position > position)
        .order_by(Post.position)
        .limit(limit + 1)
    )
    page = keyset_page(db.session.scalars(query).all(), limit, lambda p: encode([p.position]))
    page.items = [post for post in page.items if can_see_post(post, viewer) and not post.is_deleted]
    return page


def page_of(post: Post) -> int:
    per_page = current_app.config["POSTS_PER_PAGE"]
    return (post.position - 1) // per_page + 1
