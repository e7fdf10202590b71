"""The whole shop: merchants, products, product cards in posts and chat, carts, checkout, orders, payments.

Rooms: ``models`` (tables), ``service`` (every rule and write: stock, orders and
their state machine, idempotency, expiry job, the product widget), ``payments``
(the provider interface), ``images`` (upload checks), ``views`` (HTML pages),
``forms``, ``schemas`` (API bodies and JSON), ``demo``.
"""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from .service.widgets import (
        describe_product,
        hide_product,
        may_watch_offer,
        may_watch_product,
        product_widget,
    )

    signals.widget_for.connect(product_widget, sender="product")
    signals.room_watch_allowed.connect(may_watch_offer, sender="offer")
    signals.offer_watch_allowed.connect(may_watch_product, sender="product")
    signals.moderation_target.connect(describe_product, sender="product")
    signals.moderation_hide.connect(hide_product, sender="product")
