"""The ``[[event:ID]]`` widget in posts and chat: the embed layer's side of events.

This is where the reader is known (``current_user``); it is handed to the service,
which never looks it up. ``forum.events.init_app`` connects ``event_widget`` as the
``signals.widget_for`` answer for the ``event`` kind.
"""

from flask import render_template
from markupsafe import Markup

from .. import embeds, widget_shells
from ..money import viewer_locale
from ..permissions import acting_user as _viewer
from ..templating import viewer_zone
from . import service
from .models import Event


def load(ids: list[int]) -> dict[int, Event]:
    return service.load_cards(ids, _viewer())


def render(event: Event, context: embeds.EmbedContext, href: str) -> Markup:
    """The card. Posts are rendered for each reader; chat may render a message once for a
    whole room, so there the card says nothing about the viewer (events.js asks).

    A card without the reader's own sign-up is a shell rendered once per state
    (``forum.widget_shells``: the event's row, its waitlist, the link, whether sign-ups
    are open, the zone and locale its dates and money are written in); a reader's own
    sign-up is rendered for them alone, never into a shell.
    """
    personal = context.source_kind != "message"
    state = service.card_state(event, _viewer() if personal else None)

    def card() -> str:
        return render_template(
            "events/_card.html", event=event, href=href, personal=personal, **state
        )

    signup = state["signup"]
    if signup is not None and signup.is_active:
        return Markup(card())  # noqa: S704 (a trusted template, autoescaped)
    key = (
        "event",
        widget_shells.row_state(event),
        state["waitlist"],
        event.signups_open(),
        href,
        personal,
        viewer_zone().key,
        str(viewer_locale()),
    )
    return widget_shells.render(key, card, {})


EVENT_WIDGET = embeds.WidgetKind(kind="event", load=load, render=render, url=service.event_url)


def event_widget(kind: str) -> embeds.WidgetKind:
    """The ``signals.widget_for`` answer for ``[[event:ID]]``."""
    return EVENT_WIDGET
