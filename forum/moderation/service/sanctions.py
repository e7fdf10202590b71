"""Silencing and suspending members, for a time, with a reason they see.

Both are an end time on the account (``silenced_until``, ``suspended_until``) that
every check compares with ``clock.now()``, so they end on time by themselves: no job
lifts them. Moderators act on members; only admins on moderators."""

from datetime import timedelta

from ...accounts import service as accounts
from ...accounts.models import User
from ...clock import now
from ...errors import Forbidden, ValidationFailed
from .audit import check_moderator, check_reason, record

MAX_MINUTES = 60 * 24 * 3650


def _check(actor, user: User, minutes) -> None:
    check_moderator(actor)
    if user.id == actor.id:
        raise Forbidden("You cannot do that to yourself.", code="own_account")
    if user.is_moderator and not actor.is_admin:
        raise Forbidden("Only admins can act on moderators.")
    if minutes is not None and (
        not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_MINUTES
    ):
        raise ValidationFailed(fields={"minutes": [f"Use 1 to {MAX_MINUTES} minutes."]})


# What each sanction writes on the account: the accounts setter for its end time.
_SETTERS = {"silence": accounts.set_silence, "suspend": accounts.set_suspension}


def _impose(kind: str, actor, user: User, minutes: int, reason: str, item_id: int | None) -> User:
    _check(actor, user, minutes)
    reason = check_reason(reason)
    _SETTERS[kind](user, now() + timedelta(minutes=minutes), reason)
    record(actor, f"user.{kind}", "user", user.id, reason=reason, minutes=minutes, item_id=item_id)
    return user


def _lift(kind: str, actor, user: User, reason: str) -> User:
    _check(actor, user, None)
    reason = check_reason(reason)
    _SETTERS[kind](user, None)
    record(actor, f"user.un{kind}", "user", user.id, reason=reason)
    return user


def silence(actor, user: User, minutes: int, reason: str, *, item_id: int | None = None) -> User:
    """Silence ``user`` for ``minutes``: they read, they cannot post or chat (board and
    chat refuse with 403 ``silenced``, saying why and until when)."""
    return _impose("silence", actor, user, minutes, reason, item_id)


def unsilence(actor, user: User, reason: str) -> User:
    return _lift("silence", actor, user, reason)


def suspend(actor, user: User, minutes: int, reason: str, *, item_id: int | None = None) -> User:
    """Suspend ``user`` for ``minutes``: they cannot log in (told why and until when),
    their sessions and tokens stop working."""
    return _impose("suspend", actor, user, minutes, reason, item_id)


def unsuspend(actor, user: User, reason: str) -> User:
    return _lift("suspend", actor, user, reason)
