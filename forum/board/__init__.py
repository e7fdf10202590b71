"""Categories, threads, posts, likes, mentions and search."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from . import moderating

    signals.room_watch_allowed.connect(may_watch_thread, sender="thread")
    signals.moderation_target.connect(moderating.describe_post, sender="post")
    signals.moderation_hide.connect(moderating.hide_post, sender="post")
    signals.post_created.connect(_after_own_post)


def _after_own_post(post, *, thread) -> None:
    """A member has read a thread up to the post they just wrote, and a reply tracks it."""
    from . import service as board

    board.mark_own_post(post, thread)
    board.track_on_reply(post, thread)


def may_watch_thread(kind: str, *, user, rest: str) -> bool:
    """``thread:<id>``: whoever may read the thread."""
    from ..errors import NotFound
    from . import service as board

    if not rest.isdigit():
        return False
    try:
        board.get_thread(int(rest), viewer=user)
    except NotFound:
        return False
    return True
