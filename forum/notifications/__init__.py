"""The bell: mentions, replies and other things a member should know about."""

from flask import Flask, g
from flask_login import current_user


def init_app(app: Flask) -> None:
    app.context_processor(bell)


def bell() -> dict:
    """``unread_notifications`` for the header's bell."""
    # Counted once per request: widgets in a page are templates too, and each
    # render_template runs the context processors again.
    if "unread_notifications" not in g:
        from .service import unread_count

        g.unread_notifications = (
            unread_count(current_user.id) if current_user.is_authenticated else 0
        )
    return {"unread_notifications": g.unread_notifications}
