"""Coupons (part of member operations): site-wide and shop coupons applied at checkout.

Rooms: ``models`` (coupons, each member's uses, each order's redemption), ``service``
(the rules, the price step, claiming and giving back uses), ``views`` (admin and
merchant pages, usage figures), ``forms``, ``schemas`` (API bodies and JSON), ``demo``.
The price step is listed in ``shop_embed.service.pricing.PRICE_STEPS``; the API is
``forum/api/coupons.py``.
"""

from flask import Flask

from ... import signals


def init_app(app: Flask) -> None:
    from . import service

    # A placed order takes its coupon's use before its stock is reserved ...
    signals.order_priced.connect(service.claim)
    # ... and gives it back when it is cancelled, expires or is refunded in full.
    signals.order_changed.connect(service.release)
