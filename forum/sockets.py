"""What every Socket.IO handler shares: who is connected, rights, limits, errors.

Part of the live layer (roles in ``forum.realtime``'s docstring): the plumbing of the
*inbound* side, used by every namespace (``/live``, ``/chat``). Feature-agnostic: it
imports no feature (an API token's user is asked through ``signals.user_for_token``).

``login_required`` and ``before_request`` do not run for socket events, so each
handler is wrapped by ``socket_event``: it loads the user (session cookie or the
token given on connect), re-checks the session version (a logged-out user's
socket is refused), rate-limits if asked, and turns a ServiceError into an
acknowledgement ``{"error": {...}}`` instead of an exception.

A socket that authenticated as someone remembers who (``SOCKET_USER_KEY`` in its
own session copy). When that user's session has since ended (logout everywhere,
password change, suspension: the user loader refuses the old session version),
the next event is refused and the socket is closed by the server, whatever the
client does with the ``logged_out`` push.
"""

import contextlib
import functools
import logging
import socket

from flask import current_app, request, session
from flask_login import current_user, login_user
from flask_socketio import disconnect, emit

from . import ratelimit, realtime, signals
from .errors import NotAuthenticated, RateLimited, ServiceError
from .extensions import db
from .jsonbody import MAX_DEPTH, TooDeepPayload
from .permissions import acting_user as socket_user

log = logging.getLogger(__name__)
SOCKET_USER_KEY = "socket_user_id"


def admit_connection() -> None:
    """Refuse a handshake when this address opens sockets too fast (SOCKET_CONNECT_LIMIT)."""
    spec = current_app.config.get("SOCKET_CONNECT_LIMIT")
    if not spec:
        return
    try:
        ratelimit.consume(spec, "socket-connect", request.remote_addr or "unknown")
    except RateLimited as err:
        raise ConnectionRefusedError({"code": err.code, "message": err.message}) from None


def connect_user(auth) -> object | None:
    """The user of a connecting socket, from the session cookie or ``auth={"token": ...}``."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        session[SOCKET_USER_KEY] = user.id
        return user
    token = auth.get("token") if isinstance(auth, dict) else None
    if isinstance(token, str) and token:
        user = signals.ask(signals.user_for_token, "bearer", token=token)
        if user is not None:
            # Stored in this socket's own session copy, not in any HTTP cookie.
            login_user(user)
            session["socket_token_auth"] = True
            session[SOCKET_USER_KEY] = user.id
            return user
    return None


def send_without_delay() -> None:
    """Turn Nagle's algorithm off for this websocket's TCP connection.

    A reply is often two frames back to back (the room's event, then the ack); with
    Nagle on, the second waits for the client's delayed ACK, about 40 ms each time.
    Works when the socket is reachable from the environ (Werkzeug, gunicorn) and the
    client opened the websocket first (our pages do); otherwise nothing changes.
    """
    raw = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
    if raw is None:
        return
    with contextlib.suppress(OSError, AttributeError):  # not a TCP socket: nothing to tune
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def session_ended(user) -> bool:
    """True when this socket authenticated as someone whose session is no longer valid."""
    expected = session.get(SOCKET_USER_KEY)
    return expected is not None and (user is None or user.id != expected)


def end_stale_socket() -> None:
    """Tell the client and close this socket (its user's session ended)."""
    emit("logged_out", {})
    sid, namespace = request.sid, request.namespace
    # The disconnect handler runs at once: in its own app context and database session.
    with current_app._get_current_object().app_context():
        disconnect(sid=sid, namespace=namespace)


def socket_event(*, login: bool = True, limit: str | None = None, scope: str | None = None):
    """Wrap a handler: auth, optional per-user rate limit, errors as acks."""

    def decorate(func):
        @functools.wraps(func)
        def handler(*args, **kwargs):
            try:
                if any(isinstance(arg, TooDeepPayload) for arg in args):
                    raise ServiceError(
                        f"The JSON nests deeper than {MAX_DEPTH} levels.", code="invalid_json"
                    )
                user = socket_user()
                if session_ended(user):
                    end_stale_socket()
                    raise NotAuthenticated(
                        "Your session has ended; please log in again.", code="session_ended"
                    )
                if login and user is None:
                    raise NotAuthenticated("Please log in again.", code="not_authenticated")
                if limit and user is not None:
                    spec = current_app.config.get(limit, limit)
                    ratelimit.consume(
                        spec,
                        scope or func.__name__,
                        user.id,
                        message="You are sending too fast; wait a few seconds.",
                    )
                result = func(*args, **kwargs)
                db.session.commit()  # live pushes leave here (forum.realtime)
                if isinstance(result, dict) and realtime.undelivered():
                    # Stored, but the others were not told live: say so (README, Delivery).
                    result = {**result, "delivered": False}
                return result
            except ServiceError as err:
                db.session.rollback()
                return err.to_dict()
            except Exception:
                # Never leave a client waiting on an ack that will not come.
                db.session.rollback()
                log.exception("socket event %s failed", func.__name__)
                if current_app.testing:
                    raise  # tests see the real error
                return ServiceError(
                    "Something went wrong on our side.", code="internal_error"
                ).to_dict()
            finally:
                db.session.remove()

        return handler

    return decorate


def refuse_and_disconnect():
    disconnect(sid=request.sid)
