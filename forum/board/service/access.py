"""Who may read and post in a category: by role, trust level or member tier (a VIP
lounge readable only by VIPs), and archived categories closed to new posts.

Every read path asks here: category lists and pages, thread pages, posts (and their
source and revisions), search, a member's recent posts, and the reads other features
make (``threads_embedding``, ``live_thread_ids`` leave restricted categories out
altogether, since they have no viewer). A hidden category is NotFound, never 403, so
it leaks nothing. Staff read and post everywhere.
"""

from sqlalchemy import select, true

from ...accounts.models import ROLES, TIERS
from ...errors import Forbidden, ValidationFailed
from ...extensions import db
from ...permissions import can_moderate, is_admin, is_member
from ...trust import service as trust
from ..models import Category


def names(value: str) -> list[str]:
    return [part for part in (value or "").split(",") if part]


def _passes(viewer, roles: str, tiers: str, min_trust: int) -> bool:
    if not (roles or tiers or min_trust):
        return True
    if not is_member(viewer):
        return False
    if roles and not any(viewer.has_role(role) for role in names(roles)):
        return False
    if tiers and getattr(viewer, "tier", None) not in names(tiers):
        return False
    return trust.level_of(viewer) >= min_trust


def may_read(category: Category, viewer) -> bool:
    if can_moderate(viewer):
        return True
    return _passes(viewer, category.read_roles, category.read_tiers, category.read_min_trust)


def may_post(category: Category, viewer) -> bool:
    if can_moderate(viewer):
        return True
    return (
        not category.archived
        and may_read(category, viewer)
        and _passes(viewer, category.post_roles, category.post_tiers, category.post_min_trust)
    )


def check_can_post_in(user, category: Category) -> None:
    """Forbidden ``category_archived`` / ``category_closed`` unless ``user`` may post."""
    if may_post(category, user):
        return
    if category.archived:
        raise Forbidden(
            "This category is archived: it takes no new posts.", code="category_archived"
        )
    raise Forbidden("You cannot post in this category.", code="category_closed")


def hidden_category_ids(viewer) -> list[int]:
    """Ids of the categories ``viewer`` may not read (few rows: categories are few)."""
    if can_moderate(viewer):
        return []
    restricted = db.session.scalars(
        select(Category).where(
            (Category.read_roles != "")
            | (Category.read_tiers != "")
            | (Category.read_min_trust > 0)
        )
    )
    return [category.id for category in restricted if not may_read(category, viewer)]


def readable(column, viewer):
    """A SQL condition on a category id column: only what ``viewer`` may read."""
    hidden = hidden_category_ids(viewer)
    return column.not_in(hidden) if hidden else true()


def _clean_names(field: str, value, allowed, errors) -> str:
    if value is None:
        return ""
    items = value if isinstance(value, list) else str(value).split(",")
    items = [str(item).strip() for item in items if str(item).strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        errors[field] = [f"Choose from {', '.join(allowed)}."]
    return ",".join(dict.fromkeys(items))


def update_category(actor, category: Category, **values) -> Category:
    """Edit a category (admins): name, description, position, archived and the read /
    post rules. Raises Forbidden, ValidationFailed (nothing changed)."""
    if not is_admin(actor):
        raise Forbidden("Only admins manage categories.")
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for field, value in values.items():
        if value is None:
            continue
        if field == "name":
            value = value.strip() if isinstance(value, str) else ""
            if not 2 <= len(value) <= 80:
                errors[field] = ["Use 2-80 characters."]
        elif field == "description":
            if not isinstance(value, str) or len(value) > 500:
                errors[field] = ["Keep it under 500 characters."]
        elif field == "position":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
                errors[field] = ["Use a whole number from 0 to 10,000."]
        elif field == "archived":
            if not isinstance(value, bool):
                errors[field] = ["Use true or false."]
        elif field in ("read_roles", "post_roles"):
            value = _clean_names(field, value, [r for r in ROLES if r != "member"], errors)
        elif field in ("read_tiers", "post_tiers"):
            value = _clean_names(field, value, list(TIERS), errors)
        elif field in ("read_min_trust", "post_min_trust"):
            if isinstance(value, bool) or not isinstance(value, int) or value not in trust.LEVELS:
                errors[field] = ["Choose a trust level from 0 to 4."]
        else:
            errors[field] = ["Unknown setting."]
        clean[field] = value
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    for field, value in clean.items():
        setattr(category, field, value)
    db.session.flush()
    return category
