"""Who saw which widget: a member's first sight of a widget per post or chat message,
gathered while a page is built (``signals.widgets_shown``) and written once after it,
for promotion evaluation (``insight_exposures``)."""

from __future__ import annotations

from flask import current_app, g, has_request_context
from flask_login import current_user

from ...clock import now
from ...database import insert_ignore
from ...extensions import db
from ..models import Exposure

WIDGET_KINDS = ("product", "snap", "groupbuy", "auction", "guess")
SOURCES = ("post", "message")
_PENDING = "plaza_insight_exposures"


def collect(_sender, *, pairs) -> None:
    """``signals.widgets_shown`` receiver: remember which widgets a member was shown."""
    if not has_request_context():
        return
    shown = g.setdefault(_PENDING, {})
    for ref, context in pairs:
        if (
            ref.kind in WIDGET_KINDS
            and context.source_kind in SOURCES
            and context.source_id is not None
        ):
            shown.setdefault((ref.kind, ref.id, context.source_kind, context.source_id), context)


def flush(response):
    """After a page is built for a member: write their first sights, one statement."""
    shown = g.pop(_PENDING, None)
    if not shown or response.status_code != 200 or not current_user.is_authenticated:
        return response
    at = now()
    rows = [
        {
            "user_id": current_user.id,
            "embed_kind": key[0],
            "embed_id": key[1],
            "source_kind": key[2],
            "source_id": key[3],
            "author_id": context.author_id,
            "first_seen_at": at,
        }
        for key, context in shown.items()
    ]
    try:
        with db.engine.begin() as connection:
            connection.execute(insert_ignore(Exposure, None, bind=db.engine), rows)
    except Exception:  # recording must never cost the reader their page
        current_app.logger.exception("insight: could not record exposures")
    return response


def record_sights(rows: list[dict]) -> int:
    """Write first sights (``user_id, embed_kind, embed_id, source_kind, source_id,
    author_id, first_seen_at``) in the caller's transaction, each key once (a sight
    already kept stays): for seeders such as the demo. Returns how many were given."""
    if rows:
        db.session.execute(insert_ignore(Exposure, None, bind=db.session.get_bind()), rows)
    return len(rows)
