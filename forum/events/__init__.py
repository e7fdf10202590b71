"""Community events: sign-ups with seats and a waitlist, check-in, calendars, reminders."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Connect what events offer other features: the ``[[event:ID]]`` widget kind."""
    from . import embed

    embed.register()
