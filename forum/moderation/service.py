"""Moderator rights and the audit log; suspending members.

Each action checks the actor's rights, changes state, and writes one audit entry in
the same transaction. Actions on another feature's rows live in that feature's service
and call ``check_moderator`` and ``record`` here (board: lock, pin, move, hide)."""

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..clock import now
from ..errors import Conflict, Forbidden, ValidationFailed
from ..extensions import db
from .models import FLAG_REASONS, AuditEntry, Flag


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


# --- flags -----------------------------------------------------------------------------


def flag(actor: User, target_type: str, target_id: int, reason: str, note: str = "") -> Flag:
    """Record ``actor``'s flag on a target the caller's feature has already found visible.

    Raises ValidationFailed for an unknown reason or a long note, Conflict
    ``already_flagged`` for a second flag by the same member (nothing written).
    """
    if reason not in FLAG_REASONS:
        raise ValidationFailed(fields={"reason": [f"Choose one of {', '.join(FLAG_REASONS)}."]})
    if not isinstance(note, str) or len(note) > 500:
        raise ValidationFailed(fields={"note": ["Keep the note under 500 characters."]})
    item = Flag(
        target_type=target_type,
        target_id=target_id,
        reporter_id=actor.id,
        reason=reason,
        note=note.strip(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(item)
            db.session.flush()
    except IntegrityError:
        raise Conflict("You have already flagged this.", code="already_flagged") from None
    return item


def open_flag_counts(target_type: str) -> dict[int, int]:
    """Open (unresolved) flags per target of ``target_type``: the moderators' queue."""
    rows = db.session.execute(
        select(Flag.target_id, func.count())
        .where(Flag.target_type == target_type, Flag.resolved_at.is_(None))
        .group_by(Flag.target_id)
    )
    return {target_id: count for target_id, count in rows}


def resolve_flags(actor: User, target_type: str, target_id: int) -> int:
    """Close every open flag on a target (a moderator decided); returns how many."""
    check_moderator(actor)
    return db.session.execute(
        update(Flag)
        .where(
            Flag.target_type == target_type,
            Flag.target_id == target_id,
            Flag.resolved_at.is_(None),
        )
        .values(resolved_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
