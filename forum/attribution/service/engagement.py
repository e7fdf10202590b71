"""Which offers members clicked, as a SELECT for recommendations (insight trains on
it), so nobody outside attribution names its tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from ..models import Click


def product_clicks_sql(before: datetime | None = None) -> Select:
    """``SELECT user_id, product_id, at``: product cards a signed-in member clicked
    (not their own links), the latest time, made before ``before``."""
    query = select(
        Click.user_id.label("user_id"),
        Click.embed_id.label("product_id"),
        func.max(Click.created_at).label("at"),
    ).where(Click.user_id.is_not(None), Click.embed_kind == "product", Click.is_self.is_(False))
    if before is not None:
        query = query.where(Click.created_at < before)
    return query.group_by(Click.user_id, Click.embed_id)


def deal_clicks_sql(kinds: tuple[str, ...], before: datetime | None = None) -> Select:
    """``SELECT user_id, kind, deal_id, at``: promotion cards (``kinds``: "snap",
    "groupbuy") a signed-in member clicked (not their own links), the latest time."""
    query = select(
        Click.user_id.label("user_id"),
        Click.embed_kind.label("kind"),
        Click.embed_id.label("deal_id"),
        func.max(Click.created_at).label("at"),
    ).where(Click.user_id.is_not(None), Click.embed_kind.in_(kinds), Click.is_self.is_(False))
    if before is not None:
        query = query.where(Click.created_at < before)
    return query.group_by(Click.user_id, Click.embed_kind, Click.embed_id)
