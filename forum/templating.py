"""Jinja filters and globals every page shares: times in the viewer's zone, money, widgets.

Feature-agnostic: a feature adds its own template helpers in its ``init_app``
(``app.context_processor``, ``app.add_template_global``), e.g. notifications' bell."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from flask_login import current_user

from . import embeds
from .clock import now
from .money import format_minor


def viewer_zone() -> ZoneInfo:
    name = getattr(current_user, "timezone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def localtime(value: datetime | None, fmt: str = "%b %d, %Y %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(viewer_zone()).strftime(fmt)


def timeago(value: datetime | None) -> str:
    if value is None:
        return ""
    seconds = int((now() - value).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("y", 31536000), ("mo", 2592000), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"


def money(cents: int | None, currency: str = "USD") -> str:
    """Minor units of ``currency`` in the viewer's locale (forum.money)."""
    return format_minor(cents, currency)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(localtime=localtime, timeago=timeago, money=money)
    app.jinja_env.globals.update(render_body=embeds.expand, EmbedContext=embeds.EmbedContext)
