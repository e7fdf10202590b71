"""Small things members expect: reactions beside the like, bookmarks with a list page,
the user card shown on a name, and drafts kept on the server while composing.
``service`` is the front; avatars are accounts' (``accounts.service.set_avatar``)."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from . import service, views

    # Posting in a thread (or opening one) ends the author's draft for it.
    signals.post_created.connect(service.on_post_created)
    views.add_template_helpers(app)
