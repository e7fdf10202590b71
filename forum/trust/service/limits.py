"""What trust unlocks: one check per act, called by the board and chat services before
they write anything. Each limit is a setting (``TRUST_*`` in forum/config.py) and is
lifted at trust level 1; staff are exempt. A refusal is 403 ``trust_level_required``
(or 429 for the newcomer delays, which ``RATELIMIT_ENABLED = False`` switches off)."""

import re

from flask import current_app

from ... import ratelimit
from .common import is_exempt, level_of, require_level

NEWCOMER_LIFTED_AT = 1
# Links a member typed (bare URLs included); mention links (/u/name) are counted as mentions,
# and the link markup puts around an uploaded picture (data-lightbox) is that image's.
_LINK_RE = re.compile(r"<a\s(?![^>]*\bdata-lightbox\b)[^>]*href=\"(?!/u/)", re.IGNORECASE)
_IMAGE_RE = re.compile(r"<img[\s>]", re.IGNORECASE)


def _setting(name: str) -> int:
    return int(current_app.config[name])


def is_newcomer(user) -> bool:
    return not is_exempt(user) and level_of(user) < NEWCOMER_LIFTED_AT


def check_post_content(user, html: str, mentions: list[str], *, where: str = "post") -> None:
    """Refuse a post (or edit) body with more links, images or @mentions than a TL0
    member may use (``TRUST_NEWCOMER_MAX_LINKS`` / ``_IMAGES`` / ``_MENTIONS``)."""
    if not is_newcomer(user):
        return
    for what, count, setting in (
        ("links", len(_LINK_RE.findall(html)), "TRUST_NEWCOMER_MAX_LINKS"),
        ("images", len(_IMAGE_RE.findall(html)), "TRUST_NEWCOMER_MAX_IMAGES"),
        ("mentions", len(mentions), "TRUST_NEWCOMER_MAX_MENTIONS"),
    ):
        most = _setting(setting)
        if count > most:
            allowed = f"more than {most} {what}" if most else f"any {what.rstrip('s')}s"
            require_level(user, NEWCOMER_LIFTED_AT, f"put {allowed} in a {where}")


def check_direct_message(user) -> None:
    """Opening a direct conversation (``TRUST_DIRECT_MESSAGE_LEVEL``)."""
    require_level(user, _setting("TRUST_DIRECT_MESSAGE_LEVEL"), "send direct messages")


def check_create_room(user) -> None:
    """Creating a chat room, public or private (``TRUST_NEW_ROOM_LEVEL``)."""
    require_level(user, _setting("TRUST_NEW_ROOM_LEVEL"), "create chat rooms")


def _newcomer_rate(user, setting: str, key: str, doing: str) -> None:
    """Count one action of a newcomer against ``setting``'s limit; RateLimited (nothing
    counted) past it. Members past level 0 are not limited."""
    if not is_newcomer(user):
        return
    spec = current_app.config[setting]
    ratelimit.consume(
        spec,
        key,
        user.id,
        message=f"New members can {doing} at most {spec.replace('/', ' per ').replace(';', ', ')}; "
        "wait a little (the limit lifts at trust level 1).",
    )


def check_post_rate(user) -> None:
    """The newcomer delay between posts (``TRUST_NEWCOMER_POST_LIMIT``, NodeBB's
    "newbie post delay"); counts one post. Raises RateLimited (nothing counted)."""
    _newcomer_rate(user, "TRUST_NEWCOMER_POST_LIMIT", "trust-post", "post")


def check_chat_rate(user) -> None:
    """The newcomer delay between chat messages (``TRUST_NEWCOMER_CHAT_LIMIT``)."""
    _newcomer_rate(user, "TRUST_NEWCOMER_CHAT_LIMIT", "trust-chat", "send")
