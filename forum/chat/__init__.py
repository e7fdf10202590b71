"""Realtime chat: public and private rooms, direct messages, presence, moderation.

``service`` (a package, one module per subject) holds the rules, ``schemas`` the
models and limits both doors validate with, ``sockets`` the /chat Socket.IO
namespace, ``views`` the pages, ``forum.api.chat`` the JSON API. ``init_app`` connects
chat's signal receivers. The protocol and the multi-process
deployment are described in README.md next to this file.
"""

from flask import Flask

from .. import realtime, signals


def init_app(app: Flask) -> None:
    from .service import moderation

    signals.user_sessions_ended.connect(close_user_sockets)
    signals.moderation_target.connect(moderation.describe_message, sender="message")
    signals.moderation_hide.connect(moderation.hide_message, sender="message")


def close_user_sockets(sender, *, user_id: int) -> None:
    """Logout, password change, suspension: close this user's chat sockets at once,
    wherever they are connected (the disconnect travels through the message queue)."""
    from flask import current_app

    from .service import NAMESPACE, sockets_of

    with current_app._get_current_object().app_context():
        sids = sockets_of(user_id)
    realtime.close_sockets(sids, NAMESPACE)
