"""Attribution facts for other features, without their naming its tables: offer clicks
as a SQL expression to compose into ONE statement over members (campaigns' segments),
and the orders credited to a source (a campaign's report)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, distinct, exists, func, not_, select

from ...extensions import db
from ..models import Click, Conversion, Credit


def clicked_offer_sql(
    user_id, since: datetime, *, unless: Callable[[Any, Any], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """The member clicked a merchant's offer link since ``since`` and ``unless(click's
    created_at, click's merchant user id)`` is false for that click (e.g. "bought from
    that merchant since": the caller builds it from the shop's service)."""
    return exists(
        select(Click.id)
        .where(
            Click.user_id == user_id,
            Click.created_at >= since,
            Click.merchant_id.is_not(None),
            not_(unless(Click.created_at, Click.merchant_id)),
        )
        .correlate_except(Click)
    )


def _credited(source_kind: str, source_id: int):
    return (
        Credit.source_kind == source_kind,
        Credit.source_id == source_id,
        Conversion.kind == "order",
        Conversion.reversed_at.is_(None),
    )


def credited_orders(source_kind: str, source_id: int) -> dict:
    """Orders credited to the source (reversed ones excluded): count and revenue."""
    row = db.session.execute(
        select(
            func.count(distinct(Conversion.order_id)),
            func.coalesce(func.sum(Credit.revenue_cents), 0),
        )
        .select_from(Credit)
        .join(Conversion, Conversion.id == Credit.conversion_id)
        .where(*_credited(source_kind, source_id))
    ).one()
    return {"orders": int(row[0] or 0), "revenue_cents": int(row[1] or 0)}


def credited_orders_by_day(source_kind: str, source_id: int) -> list[tuple[str, int]]:
    """(day, orders credited to the source that day), for a chart."""
    day = func.date(Conversion.occurred_at)
    rows = db.session.execute(
        select(day, func.count(distinct(Conversion.order_id)))
        .select_from(Credit)
        .join(Conversion, Conversion.id == Credit.conversion_id)
        .where(*_credited(source_kind, source_id))
        .group_by(day)
    ).all()
    return [(str(value)[:10], int(n)) for value, n in rows if value is not None]
