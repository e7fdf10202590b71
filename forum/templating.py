"""Jinja filters and globals every page shares: times in the viewer's zone, money, widgets.

Feature-agnostic: a feature adds its own template helpers in its ``init_app``
(``app.context_processor``, ``app.add_template_global``), e.g. notifications' bell."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from werkzeug.routing import UnicodeConverter

from . import embeds, markup
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


_STAND_IN = {int: 918273645, str: "zq-stand-in-qz"}


def path_for(endpoint: str, **values: int | str) -> str:
    """``url_for`` of a route with one path value, for lists that link every row: the
    path is built once per endpoint with a stand-in value, then each row's is put in its
    place (escaped as the route's converter would). 30 rows x 3 links were a fifth of the
    front page's time."""
    ((name, value),) = values.items()
    kind = int if isinstance(value, int) else str
    paths = current_app.extensions.setdefault("path_for", {})
    key = (endpoint, name, kind, request.script_root)
    pattern = paths.get(key)
    if pattern is None:
        stand_in: dict[str, Any] = {name: _STAND_IN[kind]}
        pattern = paths[key] = url_for(endpoint, **stand_in)
    text = str(value) if kind is int else UnicodeConverter(current_app.url_map).to_url(value)
    return pattern.replace(str(_STAND_IN[kind]), text)


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        localtime=localtime, timeago=timeago, money=money, excerpt=markup.excerpt
    )
    app.jinja_env.globals.update(
        render_body=embeds.expand, EmbedContext=embeds.EmbedContext, path_for=path_for
    )
