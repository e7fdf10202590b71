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
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, Response, current_app, request, session
from flask_caching import Cache
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.http import is_resource_modified

from . import signals
from .clock import now

cache = Cache()
VERSION_KEY = "board-version"
_DIRTY = "pagecache_dirty"


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
