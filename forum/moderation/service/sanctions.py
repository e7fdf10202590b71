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


def silence(actor, user: User, minutes: int, reason: str, *, item_id: int | None = None) -> User:
    """Silence ``user`` for ``minutes``: they read, they cannot post or chat (board and
    chat refuse with 403 ``silenced``, saying why and until when)."""
    _check(actor, user, minutes)
    reason = check_reason(reason)
    accounts.set_silence(user, now() + timedelta(minutes=minutes), reason)
    record(actor, "user.silence", "user", user.id, reason=reason, minutes=minutes, item_id=item_id)
    return user


def unsilence(actor, user: User, reason: str) -> User:
    _check(actor, user, None)
    reason = check_reason(reason)
    accounts.set_silence(user, None)
    record(actor, "user.unsilence", "user", user.id, reason=reason)
    return user


def suspend(actor, user: User, minutes: int, reason: str, *, item_id: int | None = None) -> User:
    """Suspend ``user`` for ``minutes``: they cannot log in (told why and until when),
    their sessions and tokens stop working."""
    _check(actor, user, minutes)
    reason = check_reason(reason)
    accounts.set_suspension(user, now() + timedelta(minutes=minutes), reason)
    record(actor, "user.suspend", "user", user.id, reason=reason, minutes=minutes, item_id=item_id)
    return user


def unsuspend(actor, user: User, reason: str) -> User:
    _check(actor, user, None)
    reason = check_reason(reason)
    accounts.set_suspension(user, None)
    record(actor, "user.unsuspend", "user", user.id, reason=reason)
    return user
