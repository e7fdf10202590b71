"""Rendered thread lists for anonymous readers, and HTTP revalidation of their pages.

Only a reader with no account sees a cached list: it holds nothing per viewer (anonymous
readers all see the same threads in UTC), and members, who may be moderators (deleted
threads shown) or in another time zone, always get theirs rendered. The page around the
list (the CSRF token, flashed messages) is rendered per request.

The cache is Flask-Caching: Redis when ``PAGE_CACHE_REDIS_URL`` is set (shared by every
worker), else an in-process SimpleCache outside production, else none (NullCache: one
worker could not tell another that the board changed). Every key carries the board's
version; ``signals.post_created`` and ``signals.board_changed`` move it after their
transaction commits, so a list is never served from before a change once that change is
visible (a render racing the commit lands under the old version). ``PAGE_CACHE_SECONDS``
bounds what only time changes ("3m ago", a renamed member).

Anonymous list pages carry a weak ETag of the list and its version, ``Last-Modified``
(when the list was rendered) and ``Cache-Control: public, no-cache`` with
``Vary: Cookie``: a browser keeps the page but asks each time, and gets a 304 without the
page being rendered while nothing changed.

Whole pages (``SHARED_PAGES``: the front page, category and thread pages, profiles,
search results) go one step further for a visitor who sends no session, remember or
Authorization header: the first such GET of a URL is rendered and kept whole under the
board version, the URL and the locale its Accept-Language picks (money and dates follow
it), and the next ones are answered from the cache by ``SharedPages``, a WSGI middleware in
front of Flask, before any request context, hook, view, query or template. Such a request never gets a session: base.html leaves out the
CSRF meta tag on it (anonymous readers post nothing from these pages; every form that
posts is shown to members only, and a member always sends a session cookie), and a page
is only kept if nothing in it was personal: no CSRF token made, no session written or
flashed, no cookie set, no member, and no widget shown (widgets carry live stock,
countdowns and count impressions per view).
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_caching import Cache
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.http import is_resource_modified, parse_accept_header
from werkzeug.wsgi import get_host

from . import signals
from .clock import now
from .money import locale_for_languages

cache = Cache()
VERSION_KEY = "board-version"
_DIRTY = "pagecache_dirty"
LIST_ARGS = frozenset({"view", "period", "limit", "cursor"})
# Endpoint -> the query arguments its page reads; a URL with any other argument is
# rendered as usual but not kept (no cache entry per made-up query string).
SHARED_PAGES: dict[str, frozenset[str]] = {
    "pages.home": LIST_ARGS,
    "board.category": LIST_ARGS,
    "board.thread": frozenset({"page"}),
    "accounts.profile": frozenset(),
    # A visitor's search results; the index moves with post_created, search_stale and
    # review_changed (each a new version). Public chat messages do not move it: a kept
    # result page may miss the last PAGE_CACHE_SECONDS of chat.
    "search.search": frozenset(
        {"q", "type", "category", "author", "since", "until", "has_offer", "cursor"}
    ),
}
_SHARED_KEY = "plaza.shared_page"  # on ``g`` and the environ: this request may fill that entry
_KEEP = "plaza.keep_page"  # on the environ: the validators of a page to keep
_PERSONAL = "pagecache_personal"  # on ``g``: something in this page is not for everyone
MAX_LANGUAGE_HEADER = 100


def init_app(app: Flask) -> None:
    url = app.config.get("PAGE_CACHE_REDIS_URL")
    kind = app.config.get("PAGE_CACHE_TYPE") or (
        "RedisCache" if url else "NullCache" if app.config["ENV"] == "production" else "SimpleCache"
    )
    cache.init_app(
        app,
        config={
            "CACHE_TYPE": kind,
            "CACHE_REDIS_URL": url,
            "CACHE_KEY_PREFIX": app.config.get("PAGE_CACHE_PREFIX", "plaza:pages:"),
            "CACHE_DEFAULT_TIMEOUT": app.config.get("PAGE_CACHE_SECONDS", 60),
            "CACHE_THRESHOLD": 2000,
        },
    )
    signals.post_created.connect(_board_changed, weak=False)
    signals.board_changed.connect(_board_changed, weak=False)
    signals.search_stale.connect(_board_changed, weak=False)
    signals.review_changed.connect(_board_changed, weak=False)
    signals.widgets_shown.connect(_widgets_shown, weak=False)
    app.before_request(mark_shared_page)
    app.after_request(keep_shared_page)
    # Inside ProxyFix (wrapped later in create_app), so the host and scheme are the client's.
    app.wsgi_app = SharedPages(app, app.wsgi_app)  # type: ignore[method-assign]
    app.add_template_global(shared_page)


def _board_changed(_sender, **_kw) -> None:
    from .extensions import db

    db.session.info[_DIRTY] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        bump()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_DIRTY, None)


def bump() -> None:
    """A new board version: every cached list is from before it."""
    try:
        cache.cache.inc(VERSION_KEY)  # Redis: INCR, one version for every worker
    except Exception:  # noqa: BLE001  (a cache outage must never fail a post)
        current_app.logger.warning("page cache: could not move the board version")


def _version() -> int:
    try:
        return int(cache.get(VERSION_KEY) or 0)
    except Exception:  # noqa: BLE001  (no cache: render every time)
        return -1


def anonymous() -> bool:
    """A reader the shared list may be shown to: no account, no flashed message waiting."""
    return not current_user.is_authenticated and not session.get("_flashes")


def list_key(name: str, args) -> str:
    """A cache key for list ``name`` as the query string shapes it (view, period, page)."""
    parts = (args.get(part, "") for part in ("view", "period", "limit", "cursor"))
    return ":".join((name, *parts))


def thread_list(key: str, render: Callable[[], str]) -> tuple[Markup, dict | None]:
    """The rendered list for ``key`` (``render`` makes it) and, for an anonymous reader,
    its validators (etag, rendered_at) for ``conditional``; members always get ``render()``."""
    if not anonymous():
        return Markup(render()), None  # noqa: S704  (an autoescaped template's output)
    version = _version()
    full_key = f"list:{version}:{key}"
    entry = cache.get(full_key) if version >= 0 else None
    if entry is None:
        html = render()
        digest = hashlib.blake2b(f"{version}\n{html}".encode(), digest_size=12).hexdigest()
        entry = {"html": html, "etag": digest, "at": now().replace(microsecond=0).isoformat()}
        if version >= 0:
            try:
                cache.set(full_key, entry)
            except Exception:  # noqa: BLE001  (serve it uncached)
                current_app.logger.warning("page cache: could not store a list")
    return Markup(entry["html"]), {"etag": entry["etag"], "at": entry["at"]}  # noqa: S704


def not_modified(validators: dict | None) -> Response | None:
    """A 304 when an anonymous reader's copy is still the current one, else None."""
    if validators is None:
        return None
    at = datetime.fromisoformat(validators["at"])
    if is_resource_modified(request.environ, etag=validators["etag"], last_modified=at):
        return None
    return _decorate(Response(status=304), validators)


def conditional(response: Response, validators: dict | None) -> Response:
    """Add the list's validators and caching rules to an anonymous page's response."""
    if validators is None:
        response.headers["Cache-Control"] = "private, no-cache"
        response.vary.add("Cookie")
        return response
    return _decorate(response, validators)


def _decorate(response: Response, validators: dict) -> Response:
    response.set_etag(validators["etag"], weak=True)
    response.last_modified = datetime.fromisoformat(validators["at"]).astimezone(UTC)
    response.headers["Cache-Control"] = "public, no-cache"
    response.vary.add("Cookie")
    return response


def _widgets_shown(_sender, **_kw) -> None:
    keep_personal()


def keep_personal() -> None:
    """This response must not be kept for other visitors (a widget's live state, an
    impression to count, anything about the reader)."""
    if has_request_context():
        g.setdefault(_PERSONAL, True)


def shared_page() -> bool:
    """True while rendering a page that may be kept for every anonymous visitor: the
    template leaves out what would tie it to one (the CSRF meta tag)."""
    return _SHARED_KEY in g


def _visitor_page_key(app: Flask, req) -> str | None:
    """The cache key of a GET an anonymous visitor might share (whether its page may be
    kept is ``_shared_endpoint``'s to say, on a miss), or None: a member's cookie, a
    token, an overlong Accept-Language, a JSON caller."""
    environ = req.environ
    if environ.get("REQUEST_METHOD") != "GET" or "HTTP_AUTHORIZATION" in environ:
        return None
    config = app.config
    if "HTTP_COOKIE" in environ:
        cookies = req.cookies
        if (
            config["SESSION_COOKIE_NAME"] in cookies
            or config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies
        ):
            return None
    language = environ.get("HTTP_ACCEPT_LANGUAGE", "")
    if len(language) > MAX_LANGUAGE_HEADER or _wants_json(environ.get("HTTP_ACCEPT", "")):
        return None
    try:
        host = get_host(environ, config["TRUSTED_HOSTS"])
    except SecurityError:
        return None
    # The locale the page is rendered in, not the raw header: a visitor cycling through
    # Accept-Language variants would otherwise fill the cache with copies of one page.
    locale = locale_for_languages(language)
    # The raw URL parts: cheaper than ``request.url``, which re-quotes it as an IRI.
    query = req.query_string.decode("latin-1")
    key = f"{locale}\n{req.scheme}://{host}{req.path}?{query}"
    return "page:" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


@lru_cache(maxsize=64)
def _wants_json(accept: str) -> bool:
    return parse_accept_header(accept, MIMEAccept).best == "application/json"


def _shared_endpoint(app: Flask, req) -> bool:
    """Whether the page is one of ``SHARED_PAGES`` with only the arguments it reads, as
    Flask will route it (a 404, a redirect: not shared). Only a miss asks: a page is
    kept only after this said yes, so a kept copy under a URL answers for it."""
    try:
        adapter = app.create_url_adapter(req)
        rule, _args = adapter.match(return_rule=True)  # type: ignore[union-attr]
    except HTTPException:
        return False
    allowed = SHARED_PAGES.get(rule.endpoint or "")  # type: ignore[union-attr]
    return allowed is not None and all(name in allowed for name in req.args)


class SharedPages:
    """WSGI middleware: a visitor's kept page (or its 304) before Flask is entered at all,
    no request context, hooks or session, one Redis round trip (as Discourse's anonymous
    cache answers before Rails); any other request goes on to the app, told which entry
    it may fill. The page is kept with the headers the app sent (security headers,
    validators), so a kept copy is answered exactly as the rendered one was."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app, self.wsgi_app = app, wsgi_app
        self.backend = app.extensions["cache"][cache]

    def __call__(self, environ: dict, start_response: Callable):
        req = self.app.request_class(environ)
        page_key = _visitor_page_key(self.app, req)
        if page_key is None:
            return self.wsgi_app(environ, start_response)
        try:
            # One round trip for the board version and the kept page; the page is kept
            # under its URL alone and says which version it was rendered at.
            stored, entry = self.backend.get_many(VERSION_KEY, page_key)
            version = int(stored or 0)
        except Exception:  # noqa: BLE001  (no cache: render every time)
            if _shared_endpoint(self.app, req):
                environ[_SHARED_KEY] = None  # still a sessionless page, rendered, kept nowhere
            return self.wsgi_app(environ, start_response)
        if entry is not None and entry.get("version") == version and "headers" in entry:
            return _answer_kept(environ, start_response, entry)
        if not _shared_endpoint(self.app, req):
            return self.wsgi_app(environ, start_response)
        environ[_SHARED_KEY] = (page_key, version)
        return self._render_and_keep(environ, start_response, page_key, version)

    def _render_and_keep(self, environ, start_response, page_key: str, version: int):
        sent: list = []

        def keep_start_response(status, headers, exc_info=None):
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body_iter = self.wsgi_app(environ, keep_start_response)
        validators = environ.get(_KEEP)
        status, headers = sent or ("", [])
        # keep_shared_page found nothing personal; a hook after it may still set a cookie.
        if (
            validators is None
            or not status.startswith("200")
            or any(name.lower() == "set-cookie" for name, _value in headers)
        ):
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            if hasattr(body_iter, "close"):
                body_iter.close()
        entry = {"version": version, "body": body, "headers": list(headers), **validators}
        try:
            self.backend.set(page_key, entry)
        except Exception:  # noqa: BLE001  (served uncached)
            self.app.logger.warning("page cache: could not store a page")
        return [body]


def _answer_kept(environ: dict, start_response: Callable, entry: dict) -> list[bytes]:
    at = datetime.fromisoformat(entry["at"])
    if is_resource_modified(environ, etag=entry["etag"], last_modified=at):
        start_response("200 OK", entry["headers"])
        return [entry["body"]]
    body_headers = ("content-type", "content-length")
    start_response(
        "304 NOT MODIFIED", [(k, v) for k, v in entry["headers"] if k.lower() not in body_headers]
    )
    return []


def mark_shared_page() -> None:
    """``before_request``: a page SharedPages found no kept copy of is rendered sessionless
    (``shared_page()``), and ``keep_shared_page`` may keep it."""
    if _SHARED_KEY in request.environ:
        setattr(g, _SHARED_KEY, request.environ[_SHARED_KEY])


def keep_shared_page(response: Response) -> Response:
    """``after_request``: keep an anonymous visitor's page for the next ones when nothing
    in it is personal; it gets the same validators as the kept copy. A response that sets
    a cookie is never ``public``: a shared proxy would hand that cookie to everyone."""
    if "Set-Cookie" in response.headers and "public" in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "private, no-cache"
    shared = g.pop(_SHARED_KEY, None)
    if (
        shared is None
        or g.get(_PERSONAL)
        or response.status_code != 200
        or response.mimetype != "text/html"
        or response.is_streamed
        or "Set-Cookie" in response.headers
        or current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token") in g
        or session.modified
        or session
        or current_user.is_authenticated
    ):
        return response
    page_key, version = shared
    at = now().replace(microsecond=0).isoformat()
    digest = hashlib.blake2b(f"{version}\n{page_key}\n".encode(), digest_size=12)
    digest.update(response.get_data())
    validators = {"etag": digest.hexdigest(), "at": at}
    request.environ[_KEEP] = validators  # SharedPages keeps it with its final headers
    return _decorate(response, validators)
