"""The JSON API at /api/v1 (contract: shared/API.md) and its OpenAPI document.

Endpoints live in one module per feature (``api/board.py``...) and are declared
with ``endpoint(...)``, which also records them for /api/v1/openapi.json. Bodies
are validated by the feature's pydantic ``schemas``; services do the rest.
Auth: ``Authorization: Bearer <token>``, or the session cookie (then CSRF applies).
"""

from importlib import import_module

from flask import Blueprint, current_app, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..accounts.service import require_scope
from ..extensions import csrf
from .core import API_MODULES

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@bp.before_request
def token_scopes():
    """A token acts only within its scopes: read for GET, write for the rest, and
    merchant for merchant endpoints (403 ``insufficient_scope``)."""
    if not current_user.is_authenticated:  # loads the user, and g.api_token for a token
        return
    token = g.get("api_token")
    if token is None:
        return
    require_scope(token, "read" if request.method in SAFE_METHODS else "write")
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "plaza_auth", None) == "merchant" and current_user.has_role("merchant"):
        # (Someone without the role gets the endpoint's own 403 ``forbidden``.)
        require_scope(token, "merchant")


@bp.before_request
def csrf_for_cookie_sessions():
    """A valid bearer token is not ambient, so it needs no CSRF token; a cookie session
    does. (A request naming a token is never authenticated by its cookie.)"""
    if request.method in SAFE_METHODS:
        return
    if g.get("api_token") is not None:
        return
    if current_user.is_authenticated:
        try:
            csrf.protect()
        except CSRFError:
            from ..errors import Forbidden

            raise Forbidden("Missing or invalid CSRF token.", code="csrf_failed") from None
    g.api = True


for _name in API_MODULES:
    import_module(f".{_name}", __name__)
