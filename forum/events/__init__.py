"""Community events: sign-ups with seats and a waitlist, check-in, calendars, reminders."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    """Connect what events offer other features: the ``[[event:ID]]`` widget kind and who
    may watch an event's live room."""
    from . import embed
    from .sockets import may_watch_event

    signals.widget_for.connect(embed.event_widget, sender="event")
    signals.room_watch_allowed.connect(may_watch_event, sender="event")
