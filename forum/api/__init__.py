"""The JSON API at /api/v1 (contract: shared/API.md) and its OpenAPI document.

Endpoints live in one module per feature (``api/board.py``...) and are declared
with ``endpoint(...)``, which also records them for /api/v1/openapi.json. Bodies
are validated by the feature's pydantic ``schemas``; services do the rest.
Auth: ``Authorization: Bearer <token>``, or the session cookie (then CSRF applies).
"""

from importlib import import_module

from flask import Blueprint, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..extensions import csrf
from .core import API_MODULES

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def csrf_for_cookie_sessions():
    """A bearer token is not ambient, so it needs no CSRF token; a cookie session does."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.headers.get("Authorization", "").startswith("Bearer "):
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
