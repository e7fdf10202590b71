"""Member operations: tiers, points and store-credit ledgers."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from . import service

    # A new account gets its welcome points in the registration's transaction.
    signals.user_registered.connect(service.on_registered)
