"""Events: sign-ups, waitlists and check-ins at the door."""

from flask import Flask

from .. import signals


def init_app(app: Flask) -> None:
    from .sockets import may_watch_event

    signals.room_watch_allowed.connect(may_watch_event, sender="event")
