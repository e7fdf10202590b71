"""Who is acting and what their account allows: the checks every feature shares.

Entry points take the acting user with ``acting_user()`` (the plain object, never
Flask-Login's proxy: services compare it, store it and hand it to other threads).
Services ask the rest: whether someone is a signed-in member, holds a role, may
moderate, and ``check_not_suspended`` before anything a suspended account may not do
(post, reply, chat, sign up, order, join a team...). A feature's own rules (the host
of an event, the owner of a product) stay in its service.
"""

from typing import Any

from flask_login import current_user

from .errors import Forbidden

SUSPENDED = "Your account is suspended."


def acting_user() -> Any:
    """The signed-in user as a plain object, None for a visitor."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def is_member(user: Any) -> bool:
    """A signed-in account (not None, not Flask-Login's anonymous user)."""
    return bool(user is not None and getattr(user, "is_authenticated", False))


def has_role(user: Any, role: str) -> bool:
    return is_member(user) and bool(user.has_role(role))


def can_moderate(user: Any) -> bool:
    return is_member(user) and bool(user.is_moderator)


def is_admin(user: Any) -> bool:
    return is_member(user) and bool(user.is_admin)


def check_not_suspended(user: Any) -> None:
    """Forbidden ``suspended`` while ``user``'s account is suspended.

    A visitor passes: asking for a login is the entry point's job (or ``check_member``'s).
    """
    if getattr(user, "is_suspended", False):
        raise Forbidden(SUSPENDED, code="suspended")


def check_not_silenced(user: Any) -> None:
    """Forbidden ``silenced`` while a moderator has silenced ``user`` (they may read, not
    post or chat), saying until when and why; a suspended account is refused first."""
    check_not_suspended(user)
    if getattr(user, "is_silenced", False):
        until = user.silenced_until.strftime("%Y-%m-%d %H:%M UTC")
        reason = f" Reason: {user.silence_reason}" if user.silence_reason else ""
        raise Forbidden(f"A moderator silenced you until {until}.{reason}", code="silenced")


def check_member(user: Any) -> None:
    """Forbidden ``suspended`` unless ``user`` is a signed-in account that is not suspended."""
    if not is_member(user):
        raise Forbidden(SUSPENDED, code="suspended")
    check_not_suspended(user)
