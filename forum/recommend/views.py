"""Recommendation pages: none of their own; the front page's "For you" and the thread
page's "Suggested threads" are partials (templates/recommend/) filled from the template
helpers added here, each one indexed read of the precomputed table."""

from flask import Blueprint, Flask
from flask_login import current_user

from ..permissions import is_member
from . import service
from .schemas import link

bp = Blueprint("recommend", __name__)


def for_you() -> dict | None:
    """The signed-in member's lists (None for a visitor: the front page shows its hero)."""
    if not is_member(current_user):
        return None
    return service.for_member(current_user)


def suggested_threads(thread) -> list:
    return service.suggested_for(thread.id, current_user)


def add_template_helpers(app: Flask) -> None:
    app.add_template_global(for_you, "recommendations_for_you")
    app.add_template_global(suggested_threads, "suggested_threads")
    app.add_template_global(link, "recommendation_link")
