"""The admin's users page: finding members and changing roles (audited, with a reason)."""

from sqlalchemy import or_, select

from ...accounts import service as accounts
from ...accounts.models import ROLES, User
from ...clock import now
from ...errors import Forbidden, ValidationFailed
from ...extensions import db
from .audit import check_admin, check_moderator, check_reason, record

SEARCH_LIMIT = 50


def search_users(actor, q: str = "", *, status: str = "") -> list[User]:
    """Up to 50 members whose name or email starts with ``q`` (moderators);
    ``status`` ``silenced`` / ``suspended`` narrows to those now sanctioned."""
    check_moderator(actor)
    query = select(User).order_by(User.id.desc()).limit(SEARCH_LIMIT)
    text = (q or "").strip()[:64] if isinstance(q, str) else ""
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(
                User.username_key.like(accounts.username_key(escaped) + "%", escape="\\"),
                User.email.like(escaped.lower() + "%", escape="\\"),
            )
        )
    if status == "silenced":
        query = query.where(User.silenced_until > now())
    elif status == "suspended":
        query = query.where(User.suspended_until > now())
    return list(db.session.scalars(query))


def set_role(actor, user: User, role: str, reason: str) -> User:
    """Admins only; an admin cannot change their own role (no locking oneself out)."""
    check_admin(actor)
    if role not in ROLES:
        raise ValidationFailed(fields={"role": [f"Choose one of {', '.join(ROLES)}."]})
    if user.id == actor.id:
        raise Forbidden("You cannot change your own role.", code="own_account")
    reason = check_reason(reason)
    old = user.role
    if old != role:
        accounts.set_role(user, role)
        record(actor, "user.role", "user", user.id, reason=reason, old=old, new=role)
    return user
