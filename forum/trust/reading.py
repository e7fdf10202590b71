"""Signal receivers: what members do that counts towards their trust level.

Posts and likes are counted in the sender's transaction. A thread page only notes
what was shown (in ``g``); ``flush`` writes it when the request tears down, in a
short transaction of its own, so the page's GET writes nothing and a failure to
count never costs the reader their page.
"""

import logging

from flask import g, has_request_context, request

from ..accounts import service as accounts
from ..extensions import db
from ..permissions import is_member
from . import service

log = logging.getLogger(__name__)
_PENDING = "plaza_trust_threads_shown"


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


def on_thread_shown(thread, *, viewer=None) -> None:
    """Remember the thread this request showed (answers nothing to show)."""
    if has_request_context() and is_member(viewer):
        g.setdefault(_PENDING, {})[thread.id] = (viewer.id, thread.post_count)
    return None


def flush(exc: BaseException | None = None) -> None:
    """At the request's teardown (after every after_request hook, so nothing that builds
    the response sees its objects expired by this commit): write the noted views."""
    shown = g.pop(_PENDING, None)
    if not shown or exc is not None or request.method != "GET":
        return
    try:
        user_ids = set()
        for thread_id, (user_id, post_count) in shown.items():
            service.record_thread_read(user_id, thread_id, post_count)
            user_ids.add(user_id)
        for user_id in user_ids:
            service.evaluate_id(user_id)
        db.session.commit()
    except Exception:  # counting must never cost the reader their page
        db.session.rollback()
        log.exception("trust: could not count a thread view")


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
