"""Cross-cutting HTTP behaviour: security headers and error pages.

Every response carries the Content-Security-Policy (no inline script), nosniff,
a referrer policy and frame protection. Errors answer in the caller's language:
JSON ``{"error": {...}}`` under /api/, an HTML page elsewhere; never a bare 500
for bad input.
"""

import contextlib

from flask import (
    Flask,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from .errors import RateLimited, ServiceError
from .extensions import db
from .jsonbody import JSONProvider
from .schemas import MAX_DB_INT
from .web import safe_referrer

API_PREFIX = "/api/"
# Raised when the database cannot be reached or dropped the connection (restart, outage,
# pool exhausted): the request may succeed shortly, so 503 with Retry-After, not 500.
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def wants_json() -> bool:
    return request.path.startswith(API_PREFIX) or (
        request.accept_mimetypes.best == "application/json"
    )


def error_response(code: str, message: str, status: int, fields=None):
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status
    if status >= 500:
        return _bare_page(status, message), status
    return render_template("errors/error.html", status=status, message=message), status


def _bare_page(status: int, message: str) -> str:
    """The 5xx page: no context processors, no user, so no database query."""
    template = current_app.jinja_env.get_template("errors/bare.html")
    return template.render(status=status, message=message)


def _reset_session() -> None:
    """Roll back first: a failed transaction would make every later query fail too
    (PostgreSQL's InFailedSqlTransaction), the error page's own included."""
    with contextlib.suppress(Exception):
        db.session.rollback()


def _server_side_error(err: BaseException | None) -> bool:
    while err is not None:
        if isinstance(err, DATABASE_DOWN):
            return True
        err = err.__cause__ or err.__context__
    return False


def database_unavailable():
    _reset_session()
    response = make_response(
        error_response(
            "database_unavailable",
            "The service is briefly unavailable; please try again in a moment.",
            503,
        )
    )
    response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_SECONDS"])
    return response


def _has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype == "application/json":
            raw = request.get_data(cache=True)
            return b"\x00" in raw or b"\\u0000" in raw
        if any("\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)):
            return True
    return False


def digits_up_to(limit: int) -> str:
    """A regex matching exactly the decimal numbers 0..``limit`` (no sign; at most as
    many digits as ``limit`` has)."""
    top = str(limit)
    options = [rf"\d{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    for i, digit in enumerate(top):
        low = 1 if i == 0 and len(top) > 1 else 0  # a shorter number is covered above
        rest = len(top) - i - 1
        if int(digit) > low:
            tail = rf"\d{{{rest}}}" if rest else ""
            options.append(f"{top[:i]}[{low}-{int(digit) - 1}]{tail}")
    options.append(top)
    return "(?:" + "|".join(options) + ")"


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` everywhere: digits up to the id columns' range, else no match (404).

    Werkzeug's converter takes any length of digits; 2**31 and beyond would reach
    the database and fail there (PostgreSQL integer, SQLite 64-bit) as a 500. The
    bound is in the regex, not only in ``to_python``: a path whose other methods
    have rules would otherwise answer 405 instead of 404.
    """

    regex = digits_up_to(MAX_DB_INT)

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_DB_INT, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_converters(app: Flask) -> None:
    """Install the bounded ``int`` converter and the depth-bounded JSON parser; call
    before any blueprint is registered (rules bind their converters when added)."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.json = JSONProvider(app)


def init_app(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters():
        # No text field anywhere may hold NUL (PostgreSQL text cannot store it), so refuse
        # it at the door with a clear 400 instead of failing deep inside a query.
        if _has_nul(request):
            return error_response(
                "invalid_characters", "The request contains a NUL character.", 400
            )
        return None

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.errorhandler(ServiceError)
    def service_error(err: ServiceError):
        _reset_session()
        if wants_json():
            return jsonify(err.to_dict()), err.status
        back = safe_referrer("") if request.method == "POST" else ""
        if err.status in (400, 409, 422, 429) and back:
            flash(err.message, "error")
            return redirect(back)
        return render_template(
            "errors/error.html", status=err.status, message=err.message
        ), err.status

    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError):
        _reset_session()
        return error_response(
            "csrf_failed", "Your form expired or came from elsewhere; please try again.", 400
        )

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(err):
        _reset_session()
        response = error_response(RateLimited.code, RateLimited.message, 429)
        return response

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        _reset_session()
        original = getattr(err, "original_exception", None)
        if _server_side_error(original):
            return database_unavailable()
        code = (err.name or "error").lower().replace(" ", "_")
        response = make_response(error_response(code, err.description or err.name, err.code or 500))
        # The exception's own headers: Allow on a 405, WWW-Authenticate, Retry-After...
        for name, value in err.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        _reset_session()
        if _server_side_error(err):
            app.logger.warning(
                "database unavailable on %s %s: %s", request.method, request.path, err
            )
            return database_unavailable()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if app.config.get("PROPAGATE_EXCEPTIONS_IN_TESTS"):
            raise err
        return error_response("internal_error", "Something went wrong on our side.", 500)
