"""Member operations: tiers, VIP perks at checkout, store credit and points ledgers."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from ..shop_embed.service import PRICE_STEPS
    from . import service, views

    # A new account gets its welcome points in the registration's transaction.
    signals.user_registered.connect(service.on_registered)
    # Orders spend and give back credit and points, start rebates, move tiers.
    signals.order_changed.connect(service.on_order_changed)
    # The perks, audiences, credit and points are price steps of the one checkout.
    service.add_price_steps(PRICE_STEPS)
    views.add_template_helpers(app)
