"""Clicks: the click policy, recording a visit of a tracked link, handing a visitor's clicks to an account."""

import hashlib
from datetime import datetime, timedelta

from flask import request
from sqlalchemy import and_, case, select, update

from ...accounts.models import User
from ...clock import now
from ...extensions import db
from .. import links
from ..models import (
    Click,
)
from ..offers import offer_owner
from .common import _insert_once, is_bot, setting, window

# --- the click policy: which requests of a /go/ link are a reader's click -----------

# Our own script (``Plaza.touch``) sends this with the CSRF token when a widget acts
# in place. A page cannot make an <img>, a stylesheet or a form send a custom header,
# and another origin cannot send it without a CORS preflight we never grant.
TOUCH_HEADER = "X-Plaza-Touch"
# What a sub-resource load announces first in Accept (browsers without Sec-Fetch-*).
SUBRESOURCE_ACCEPT = ("image/", "video/", "audio/", "text/css", "font/")


def counts_as_click(method: str, headers) -> bool:
    """Whether a request of a tracked link is a reader following it (the click policy).

    - ``GET`` counts only as a top-level navigation: ``Sec-Fetch-Dest: document``
      and ``Sec-Fetch-Mode: navigate`` where the browser sends them, never
      cross-site, and (for browsers that send neither) not an ``Accept`` that asks
      for an image, media, a stylesheet or a font first. So ``![](/go/...)`` in a
      post, which every viewer's browser loads as an image, records nothing.
    - ``POST`` (a widget acting in place) counts only from our own script: the
      ``X-Plaza-Touch`` header and a CSRF token header (CSRFProtect checks the
      token before the view), and ``Sec-Fetch-Mode`` cors/same-origin and
      ``Sec-Fetch-Site: same-origin`` where sent.

    Bots are refused by ``record_click`` itself.
    """
    dest = (headers.get("Sec-Fetch-Dest") or "").strip().lower()
    mode = (headers.get("Sec-Fetch-Mode") or "").strip().lower()
    site = (headers.get("Sec-Fetch-Site") or "").strip().lower()
    if method == "GET":
        if site == "cross-site":
            return False
        if dest and dest != "document":
            return False
        if mode and mode != "navigate":
            return False
        if not dest and not mode:
            first = (headers.get("Accept") or "").split(",")[0].strip().lower()
            if first.startswith(SUBRESOURCE_ACCEPT):
                return False
        return True
    if method == "POST":
        if headers.get(TOUCH_HEADER) != "1" or not (
            headers.get("X-CSRFToken") or headers.get("X-CSRF-Token")
        ):
            return False
        if mode and mode not in ("cors", "same-origin"):
            return False
        if site and site != "same-origin":
            return False
        return dest in ("", "empty")
    return False


# --- clicks -------------------------------------------------------------------------


def record_click(
    link: links.TrackedLink,
    *,
    user_id: int | None,
    visitor_id: str | None,
    ip: str | None,
    user_agent: str | None,
) -> Click | None:
    """Log a visit of ``link``; None when it was a bot or a repeat within the dedupe window.

    A repeat is the same viewer (account, else visitor cookie) on the same link
    within ``ATTRIBUTION_CLICK_DEDUPE_SECONDS``; concurrent repeats collapse on the
    row's unique dedupe key.
    """
    if is_bot(user_agent) or (user_id is None and visitor_id is None):
        return None
    at = now()
    seconds = max(1, int(setting("ATTRIBUTION_CLICK_DEDUPE_SECONDS")))
    same_link = and_(
        Click.source_kind == link.source_kind,
        Click.source_id == link.source_id,
        Click.embed_kind == link.embed_kind,
        Click.embed_id == link.embed_id,
    )
    viewer = Click.user_id == user_id if user_id is not None else Click.visitor_id == visitor_id
    recent = db.session.scalar(
        select(Click.id)
        .where(same_link, viewer, Click.created_at > at - timedelta(seconds=seconds))
        .limit(1)
    )
    if recent is not None:
        return None
    who = f"u{user_id}" if user_id is not None else f"v{visitor_id}"
    bucket = int(at.timestamp()) // seconds
    what = f"{link.source_kind}:{link.source_id}:{link.embed_kind}:{link.embed_id}"
    dedupe_key = hashlib.sha256(f"{who}|{what}|{bucket}".encode()).hexdigest()[:40]
    click_id = _insert_once(
        Click,
        {
            "source_kind": link.source_kind,
            "source_id": link.source_id,
            "author_id": _existing_user(link.author_id),
            "room": link.room,
            "embed_kind": link.embed_kind,
            "embed_id": link.embed_id,
            "merchant_id": offer_owner(link.ref),
            "user_id": user_id,
            "visitor_id": visitor_id,
            "ip_hash": links.fingerprint(ip),
            "ua_hash": links.fingerprint(user_agent),
            "is_self": user_id is not None and user_id == link.author_id,
            "dedupe_key": dedupe_key,
            "created_at": at,
        },
        ["dedupe_key"],
    )
    return db.session.get(Click, click_id) if click_id is not None else None


def _existing_user(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return db.session.scalar(select(User.id).where(User.id == user_id))


def _claim_statement(user_id: int, visitor_id: str, at: datetime):
    return (
        update(Click)
        .where(
            Click.visitor_id == visitor_id,
            Click.user_id.is_(None),
            Click.created_at >= at - window(),
        )
        .values(user_id=user_id, is_self=case((Click.author_id == user_id, True), else_=False))
        .execution_options(synchronize_session=False)
    )


def claim_visitor(user_id: int, visitor_id: str) -> int:
    """Hand the anonymous clicks of ``visitor_id`` (within the window) to ``user_id``."""
    return db.session.execute(_claim_statement(user_id, visitor_id, now())).rowcount


def viewer_key() -> str:
    """Who is looking, for impression dedupe: account, else visitor cookie, else IP + agent."""
    from flask_login import current_user

    if current_user and getattr(current_user, "is_authenticated", False):
        return f"u{current_user.id}"
    visitor = links.visitor_id()
    if visitor:
        return f"v{visitor}"
    return "a" + links.fingerprint(f"{request.remote_addr}|{request.headers.get('User-Agent', '')}")
