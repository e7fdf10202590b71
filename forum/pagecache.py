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
it), and the next ones are answered from the cache in a ``before_request`` hook, before any
view, query or template. Such a request never gets a session: base.html leaves out the
CSRF meta tag on it (anonymous readers post nothing from these pages; every form that
posts is shown to members only, and a member always sends a session cookie), and a page
is only kept if nothing in it was personal: no CSRF token made, no session written or
flashed, no cookie set, no member, and no widget shown (widgets carry live stock,
countdowns and count impressions per view).
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_caching import Cache
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import is_resource_modified

from . import signals
from .clock import now
from .money import viewer_locale

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
_SHARED_KEY = "pagecache_shared_key"  # on ``g``: this request may fill that entry
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
    app.before_request(serve_shared_page)
    app.after_request(keep_shared_page)
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


def _shared_request_key() -> str | None:
    """The cache key (without the version) of a GET any anonymous visitor may share, or
    None: a member's cookie, a token, an unknown query argument, a JSON caller."""
    if request.method != "GET":
        return None
    allowed = SHARED_PAGES.get(request.endpoint or "")
    if allowed is None or any(name not in allowed for name in request.args):
        return None
    config = current_app.config
    cookies = request.cookies
    if (
        config["SESSION_COOKIE_NAME"] in cookies
        or config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies
        or "Authorization" in request.headers
    ):
        return None
    language = request.headers.get("Accept-Language", "")
    if len(language) > MAX_LANGUAGE_HEADER or request.accept_mimetypes.best == "application/json":
        return None
    # The locale the page is rendered in, not the raw header: a visitor cycling through
    # Accept-Language variants would otherwise fill the cache with copies of one page.
    locale = viewer_locale()
    # The raw URL parts: cheaper than ``request.url``, which re-quotes it as an IRI.
    query = request.query_string.decode("latin-1")
    return f"{locale}\n{request.scheme}://{request.host}{request.path}?{query}"


def serve_shared_page() -> Response | None:
    """``before_request``: a kept page (or its 304) for an anonymous visitor, else None
    (the view renders; ``keep_shared_page`` may keep the result)."""
    key = _shared_request_key()
    if key is None:
        return None
    # One round trip for the board version and the kept page; the page is kept under
    # its URL alone and says which version it was rendered at.
    page_key = "page:" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    try:
        stored, entry = cache.get_many(VERSION_KEY, page_key)
        version = int(stored or 0)
    except Exception:  # noqa: BLE001  (no cache: render every time)
        setattr(g, _SHARED_KEY, None)  # still a sessionless page, rendered, kept nowhere
        return None
    if entry is None or entry.get("version") != version:
        setattr(g, _SHARED_KEY, (page_key, version))
        return None
    validators = {"etag": entry["etag"], "at": entry["at"]}
    if (unchanged := not_modified(validators)) is not None:
        return unchanged
    response = Response(entry["body"], mimetype=entry["mimetype"])
    return _decorate(response, validators)


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
    body = response.get_data()
    at = now().replace(microsecond=0).isoformat()
    etag = hashlib.blake2b(f"{version}\n{page_key}\n".encode() + body, digest_size=12).hexdigest()
    entry = {"body": body, "mimetype": response.mimetype, "etag": etag, "at": at}
    try:
        cache.set(page_key, entry | {"version": version})
    except Exception:  # noqa: BLE001  (served uncached)
        current_app.logger.warning("page cache: could not store a page")
        return response
    return _decorate(response, {"etag": etag, "at": at})
