"""Search across the site: posts, threads, products, events and public chat messages.

``service`` is the front: owners' changes arrive through signals (``post_created``,
``message_sent``, ``review_changed``, ``search_stale``), connected here, and are indexed in the sender's
transaction.
"""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from . import service

    signals.post_created.connect(service.on_post_created)
    signals.message_sent.connect(service.on_message_sent)
    signals.search_stale.connect(service.on_search_stale)
    signals.review_changed.connect(service.on_review_changed)
