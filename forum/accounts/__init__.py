"""Users, roles, sessions, profiles and API tokens."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    signals.user_for_token.connect(user_for_bearer_token, sender="bearer")
    signals.members_named.connect(members_named, sender="mention")


def user_for_bearer_token(kind: str, *, token: str):
    """Answers ``signals.user_for_token`` for sockets that authenticate with an API token."""
    from .service import user_for_token

    return user_for_token(token)


def members_named(kind: str, *, names: list[str]) -> dict[str, str]:
    """Answers ``signals.members_named``: ``{username_key: username}`` of those that exist."""
    from sqlalchemy import select

    from ..extensions import db
    from .models import User

    rows = db.session.execute(
        select(User.username_key, User.username).where(User.username_key.in_(names))
    )
    return {key: name for key, name in rows}
