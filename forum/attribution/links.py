"""Tracked links and the first-party cookies that go with them.

A widget's href is ``/go/<token>``; the token signs, with the app's SECRET_KEY and
a salt of its own, where the widget was shown (post or chat message, its id, its
author, the chat room) and what it leads to (embed kind and id, plain target
URL). Nothing in it is secret; the signature only proves we wrote it, so a
tampered or made-up token is simply ignored.

The attribution cookie carries a signed, random visitor id for
``ATTRIBUTION_WINDOW_DAYS``: anonymous clicks are logged against it and handed
to the account that registers or logs in from the same browser.
"""

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app, request, url_for
from itsdangerous import BadData, URLSafeSerializer

from .. import embeds
from ..embeds import EmbedContext
from ..markup import EmbedRef

LINK_SALT = "plaza.attribution.link.v1"
VISITOR_SALT = "plaza.attribution.visitor.v1"
COOKIE_NAME = "plaza_attr"
SOURCE_CODES = {"post": "p", "message": "m", "campaign": "c"}
SOURCE_KINDS = {code: kind for kind, code in SOURCE_CODES.items()}
MAX_TOKEN_LENGTH = 2048
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class TrackedLink:
    source_kind: str  # "post" | "message" | "campaign"
    source_id: int
    author_id: int | None
    embed_kind: str
    embed_id: int
    url: str
    room: str | None = None

    @property
    def ref(self) -> EmbedRef:
        return EmbedRef(self.embed_kind, self.embed_id)


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def is_local_path(url: str) -> bool:
    """Only same-site paths: a leaked key must not turn /go/ into an open redirect."""
    return (
        isinstance(url, str)
        and url.startswith("/")
        and not url.startswith(("//", "/\\"))
        and len(url) <= 1000
        and not any(ch in url for ch in "\r\n\t\\")
    )


def sign(link: TrackedLink) -> str:
    payload = [
        SOURCE_CODES[link.source_kind],
        link.source_id,
        link.author_id,
        link.embed_kind,
        link.embed_id,
        link.url,
    ]
    if link.room:
        payload.append(link.room)
    return _signed(current_app.config["SECRET_KEY"], tuple(payload))


@lru_cache(maxsize=4096)
def _signed(secret_key, payload: tuple) -> str:
    """The token of ``payload``: deterministic (no timestamp), so a page's widgets,
    shown again and again, are signed once per process (keyed by the secret too)."""
    return URLSafeSerializer(secret_key, salt=LINK_SALT).dumps(list(payload))


def _whole(value, *, optional: bool = False) -> bool:
    if value is None:
        return optional
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def read(token: str) -> TrackedLink | None:
    """The link ``token`` stands for, or None when it is malformed or tampered with."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload = _serializer(LINK_SALT).loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        return None
    if not isinstance(payload, list) or len(payload) not in (6, 7):
        return None
    code, source_id, author_id, kind, embed_id, url, *rest = payload
    room = rest[0] if rest else None
    if (
        code not in SOURCE_KINDS
        or not _whole(source_id)
        or not _whole(author_id, optional=True)
        or not isinstance(kind, str)
        or not kind.isalpha()
        or len(kind) > 16
        or not _whole(embed_id)
        or not is_local_path(url)
        or not (room is None or (isinstance(room, str) and 0 < len(room) <= 64))
    ):
        return None
    return TrackedLink(SOURCE_KINDS[code], source_id, author_id, kind, embed_id, url, room)


def build_href(ref: EmbedRef, *, plain: str, context: EmbedContext) -> str:
    """``signals.widget_link`` answer: ``/go/<token>`` for available widgets in posts and messages."""
    if (
        context.source_kind not in SOURCE_CODES
        or context.source_id is None
        or not is_local_path(plain)
    ):
        return plain
    if embeds.target(ref) is None:  # "offer unavailable" needs no tracking
        return plain
    link = TrackedLink(
        context.source_kind,
        context.source_id,
        context.author_id,
        ref.kind,
        ref.id,
        plain,
        context.room or None,
    )
    return url_for("attribution.go", token=sign(link))


# --- the visitor cookie ------------------------------------------------------------


def new_visitor_id() -> str:
    return secrets.token_hex(16)


def visitor_id(req=None) -> str | None:
    """The anonymous visitor id from the attribution cookie, if it is one we signed."""
    raw = (req or request).cookies.get(COOKIE_NAME)
    if not raw or len(raw) > 200:
        return None
    try:
        value = _serializer(VISITOR_SALT).loads(raw)
    except (BadData, ValueError, TypeError, UnicodeError):
        return None
    if (
        isinstance(value, str)
        and len(value) == 32
        and all(ch in "0123456789abcdef" for ch in value)
    ):
        return value
    return None


def set_visitor_cookie(response, visitor: str, window_days: int) -> None:
    response.set_cookie(
        COOKIE_NAME,
        _serializer(VISITOR_SALT).dumps(visitor),
        max_age=int(window_days) * 86400,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        path="/",
    )


def fingerprint(value: str | None) -> str:
    """A keyed hash (IP, user agent): comparable between rows, not reversible to the value."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hashlib.blake2b(
        (value or "").encode("utf-8", "replace"), key=key[:64], digest_size=16
    ).hexdigest()


def campaign_href(campaign_id: int, ref: EmbedRef, plain: str) -> str:
    """The tracked ``/go/`` link (absolute) for an offer in a campaign message: its
    clicks and the orders after them are credited to the campaign (no author)."""
    if not is_local_path(plain):
        return plain
    link = TrackedLink("campaign", campaign_id, None, ref.kind, ref.id, plain)
    return url_for("attribution.go", token=sign(link), _external=True)
