"""Verified-purchase reviews, experience reports and their rewards.

Rooms: ``models``, ``service`` (a package behind one front module), ``views`` (the
review composer, moderation of reviews, the product-page and thread sections),
``forms``, ``schemas`` (API bodies and dumps), ``photos`` (the upload pipeline for
review photos), ``tasks`` (the reminder sweep), ``demo``.

``init_app`` wires it to the rest of Plaza: it hears ``order_changed`` (invitation on
completion, reward reversal on refund) and answers ``product_shown`` (ratings,
reviews, reports and threads on the product page) and ``thread_shown`` ("bought
this" on an experience report). Nothing connects by being imported.
"""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from . import service, views

    signals.order_changed.connect(service.on_order_changed)
    signals.product_shown.connect(views.product_section)
    signals.thread_shown.connect(views.thread_banner)
    signals.moderation_target.connect(service.describe_review, sender="review")
    signals.moderation_target.connect(service.describe_report, sender="report")
    signals.moderation_hide.connect(service.hide_review, sender="review")
