"""Moderator rights, reasons and the audit log.

Each action checks the actor's rights and its reason, changes state, and writes one
audit entry in the same transaction. Actions on another feature's rows live in that
feature's service and call ``check_moderator``, ``check_reason`` and ``record`` here
(board: lock, pin, move, hide)."""

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ...accounts.models import User
from ...errors import Forbidden, ValidationFailed
from ...extensions import db
from ..models import AuditEntry
from ..schemas import REASON_MAX

AUDIT_PAGE = 100


def check_moderator(actor) -> None:
    if not (actor and getattr(actor, "is_authenticated", False) and actor.is_moderator):
        raise Forbidden("Only moderators can do that.")


def check_admin(actor) -> None:
    if not (actor and getattr(actor, "is_authenticated", False) and actor.is_admin):
        raise Forbidden("Only admins can do that.")


def check_reason(reason) -> str:
    """The stripped reason, or ValidationFailed on ``reason``: every moderator action
    needs one (the member is shown it; the audit log keeps it)."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(
            "Give a reason.",
            fields={"reason": ["Give a reason: the member sees it and the audit log keeps it."]},
        )
    if len(text) > REASON_MAX:
        raise ValidationFailed(fields={"reason": [f"Keep it under {REASON_MAX} characters."]})
    return text


def record(
    actor: User | None,
    action: str,
    target_type: str,
    target_id: int,
    *,
    reason: str = "",
    subject_id: int | None = None,
    **params,
) -> AuditEntry:
    """Append one audit entry (``actor`` None: the system). ``subject_id`` is the person
    acted on; for a user target it is that user."""
    if subject_id is None and target_type == "user":
        subject_id = target_id
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        subject_id=subject_id,
        reason=(reason or "")[:REASON_MAX],
        params=params,
    )
    db.session.add(entry)
    return entry


def record_on(
    actor: User | None, action: str, target_type: str, thing: Any, *, reason: str = "", **params
) -> AuditEntry:
    """Audit an action on a member's thing (a post, thread, review, report, message):
    the entry points at ``thing.id`` and its subject is the thing's author."""
    return record(
        actor, action, target_type, thing.id, reason=reason, subject_id=thing.author_id, **params
    )


def audit_log(
    limit: int = AUDIT_PAGE, before_id: int | None = None, *, user_id: int | None = None
) -> list[AuditEntry]:
    """Newest first; ``user_id``: entries by or about that member (their history)."""
    query = (
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor), joinedload(AuditEntry.subject))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    if user_id is not None:
        query = query.where(or_(AuditEntry.subject_id == user_id, AuditEntry.actor_id == user_id))
    return list(db.session.scalars(query))
