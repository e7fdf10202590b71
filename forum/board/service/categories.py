"""Categories: listing, creating and ordering them."""

from sqlalchemy import func, select

from ... import signals
from ...accounts.models import User
from ...errors import Conflict, Forbidden, NotFound, ValidationFailed
from ...extensions import db
from ..models import Category
from .access import may_read
from .common import SLUG_RE

# --- categories --------------------------------------------------------------------


def list_categories(viewer=None) -> list[Category]:
    """The categories ``viewer`` may read (a visitor when None), in the board's order."""
    return [
        category
        for category in db.session.scalars(
            select(Category).order_by(Category.position, Category.name)
        )
        if may_read(category, viewer)
    ]


def get_category(slug: str, viewer=None) -> Category:
    """The category, or NotFound when there is none or ``viewer`` may not read it."""
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None or not may_read(category, viewer):
        raise NotFound("No such category.")
    return category


def create_category(
    actor: User, slug, name, description="", position: int | None = None
) -> Category:
    if not actor.is_admin:
        raise Forbidden("Only admins manage categories.")
    errors = {}
    slug = (slug or "").strip().lower() if isinstance(slug, str) else ""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not SLUG_RE.match(slug) or len(slug) > 48:
        errors["slug"] = ["Use lowercase letters, digits and single dashes (max 48)."]
    if not 2 <= len(name) <= 80:
        errors["name"] = ["Use 2-80 characters."]
    if not isinstance(description, str) or len(description) > 500:
        errors["description"] = ["Keep it under 500 characters."]
    if errors:
        raise ValidationFailed(fields=errors)
    if db.session.scalar(select(Category.id).where(Category.slug == slug)):
        raise Conflict(
            "That slug is taken.", code="slug_taken", fields={"slug": ["That slug is taken."]}
        )
    if position is None:
        position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
    category = Category(slug=slug, name=name, description=description, position=position)
    db.session.add(category)
    db.session.flush()
    signals.board_changed.send(category, what="category_created")
    return category


def move_category(actor: User, category: Category, position: int) -> None:
    if not actor.is_admin:
        raise Forbidden("Only admins manage categories.")
    category.position = int(position)
    signals.board_changed.send(category, what="category_moved")


def set_experience_reports(actor: User, category: Category, enabled: bool) -> None:
    """Mark (or unmark) a category as the home of experience reports (admins)."""
    if not actor.is_admin:
        raise Forbidden("Only admins manage categories.")
    category.experience_reports = bool(enabled)
    db.session.flush()
