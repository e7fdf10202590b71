"""Signal receivers: what members do that counts towards their trust level.

Posts, likes and reads are counted in the sender's transaction. Reading is what the
thread page's read beacon reports (``signals.thread_read``, a POST): the page's GET
writes nothing.
"""

from ..accounts import service as accounts
from ..extensions import db
from . import service


def on_post_created(post, *, thread=None) -> None:
    if post.position > 1:
        service.record_reply(post.author_id)
        if thread is not None:
            service.on_reply(post.author_id, thread.author_id)
    else:
        service.record_visit(post.author_id)
    service.evaluate_id(post.author_id)


def on_post_liked(post, *, liker, liked: bool) -> None:
    service.record_like(liker.id, post.author_id, liked=liked)
    if liked:
        db.session.refresh(post, ["like_count"])  # moved in SQL by the board
        service.on_reply_liked(post.author_id, post.id, post.like_count, post.position > 1)
    service.evaluate_id(liker.id)
    if post.author_id != liker.id:
        service.evaluate_id(post.author_id)


def on_thread_read(thread, *, reader, position: int) -> None:
    """The read beacon (a POST): count what the member read, then re-evaluate them."""
    service.record_thread_read(reader.id, thread.id, position)
    service.evaluate_id(reader.id)


def on_checked_in(signup, *, event, checked_in: bool) -> None:
    if checked_in:
        service.on_checked_in(signup.user_id, event.id)


def on_review_changed(review, *, change: str) -> None:
    service.on_review_changed(review.author_id, change)


def on_profile_shown(user, *, viewer=None):
    level = service.level_of(user)
    return accounts.ProfileStat("Trust level", f"{level} · {service.LEVEL_NAMES[level]}")


def on_profile_badges(user, *, viewer=None):
    names = [item["name"] for item in service.badges_of(user.id)]
    return accounts.ProfileStat("Badges", ", ".join(names)) if names else None
