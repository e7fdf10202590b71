"""Users, roles, sessions, profiles and API tokens."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    signals.user_for_token.connect(user_for_bearer_token, sender="bearer")


def user_for_bearer_token(kind: str, *, token: str):
    """Answers ``signals.user_for_token`` for sockets that authenticate with an API token."""
    from .service import user_for_token

    return user_for_token(token)
