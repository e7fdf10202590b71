"""Moderator rights and the audit log; suspending members.

Each action checks the actor's rights, changes state, and writes one audit entry in
the same transaction. Actions on another feature's rows live in that feature's service
and call ``check_moderator`` and ``record`` here (board: lock, pin, move, hide)."""

from datetime import timedelta

from sqlalchemy import select

from ..accounts.models import User
from ..clock import now
from ..errors import Forbidden, ValidationFailed
from ..extensions import db
from .models import AuditEntry


def check_moderator(actor) -> None:
    if not (actor and getattr(actor, "is_authenticated", False) and actor.is_moderator):
        raise Forbidden("Only moderators can do that.")


def record(actor: User, action: str, target_type: str, target_id: int, **params) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor.id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        params=params,
    )
    db.session.add(entry)
    return entry


def suspend(actor: User, user: User, days: int, reason: str = "") -> None:
    check_moderator(actor)
    if user.is_moderator and not actor.is_admin:
        raise Forbidden("Only admins can suspend moderators.")
    if not isinstance(days, int) or not 1 <= days <= 3650:
        raise ValidationFailed(fields={"days": ["Use 1 to 3650 days."]})
    user.suspended_until = now() + timedelta(days=days)
    record(actor, "user.suspend", "user", user.id, days=days, reason=reason[:200])
    from ..accounts import service as accounts

    accounts.end_all_sessions(user)


def unsuspend(actor: User, user: User) -> None:
    check_moderator(actor)
    user.suspended_until = None
    record(actor, "user.unsuspend", "user", user.id)


def audit_log(limit: int = 100, before_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    return list(db.session.scalars(query))
