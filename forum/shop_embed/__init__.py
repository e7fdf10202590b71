"""The whole shop: merchants, products, product cards in posts and chat, carts, checkout, orders, payments.

Rooms: ``models`` (tables), ``service`` (every rule and write: stock, orders and
their state machine, idempotency, expiry job, widget registration), ``payments``
(the provider interface), ``images`` (upload checks), ``views`` (HTML pages),
``forms``, ``schemas`` (API bodies and JSON), ``demo``.
"""
