"""The ``[[event:ID]]`` widget in posts and chat: the embed layer's side of events.

This is where the reader is known (``current_user``); it is handed to the service,
which never looks it up. ``forum.events.init_app`` connects ``event_widget`` as the
``signals.widget_for`` answer for the ``event`` kind.
"""

from flask import render_template
from markupsafe import Markup

from .. import embeds
from ..permissions import acting_user as _viewer
from . import service
from .models import Event


def load(ids: list[int]) -> dict[int, Event]:
    return service.load_cards(ids, _viewer())


def render(event: Event, context: embeds.EmbedContext, href: str) -> Markup:
    # Posts are rendered for each reader; chat may render a message once for a whole
    # room, so there the card says nothing about the viewer (events.js asks).
    personal = context.source_kind != "message"
    state = service.card_state(event, _viewer() if personal else None)
    return Markup(  # noqa: S704 (a trusted template, autoescaped)
        render_template("events/_card.html", event=event, href=href, personal=personal, **state)
    )


EVENT_WIDGET = embeds.WidgetKind(kind="event", load=load, render=render, url=service.event_url)


def event_widget(kind: str) -> embeds.WidgetKind:
    """The ``signals.widget_for`` answer for ``[[event:ID]]``."""
    return EVENT_WIDGET
