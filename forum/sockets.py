"""What every Socket.IO handler shares: who is connected, rights, limits, errors.

``login_required`` and ``before_request`` do not run for socket events, so each
handler is wrapped by ``socket_event``: it loads the user (session cookie or the
token given on connect), re-checks the session version (a logged-out user's
socket is refused), rate-limits if asked, and turns a ServiceError into an
acknowledgement ``{"error": {...}}`` instead of an exception.
"""

import functools

from flask import request, session
from flask_login import current_user, login_user
from flask_socketio import disconnect

from . import ratelimit
from .errors import NotAuthenticated, ServiceError
from .extensions import db


def connect_user(auth) -> object | None:
    """The user of a connecting socket, from the session cookie or ``auth={"token": ...}``."""
    if current_user.is_authenticated:
        return current_user._get_current_object()
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str) and token:
        from .accounts import service as accounts

        user = accounts.user_for_token(token)
        if user is not None:
            # Stored in this socket's own session copy, not in any HTTP cookie.
            login_user(user)
            session["socket_token_auth"] = True
            return user
    return None


def socket_user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def socket_event(*, login: bool = True, limit: str | None = None, scope: str | None = None):
    """Wrap a handler: auth, optional per-user rate limit, errors as acks."""

    def decorate(func):
        @functools.wraps(func)
        def handler(*args, **kwargs):
            try:
                user = socket_user()
                if login and user is None:
                    raise NotAuthenticated("Please log in again.", code="not_authenticated")
                if limit and user is not None:
                    from flask import current_app

                    spec = current_app.config.get(limit, limit)
                    ratelimit.consume(
                        spec,
                        scope or func.__name__,
                        user.id,
                        message="You are sending too fast; wait a few seconds.",
                    )
                result = func(*args, **kwargs)
                db.session.commit()
                return result
            except ServiceError as err:
                db.session.rollback()
                return err.to_dict()
            finally:
                db.session.remove()

        return handler

    return decorate


def refuse_and_disconnect():
    disconnect(sid=request.sid)
