"""Attribution facts for other features, without their naming its tables: offer clicks
as a SQL expression to compose into ONE statement over members (campaigns' segments),
and the orders credited to a source (a campaign's report)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, distinct, func, not_, select

from ...database import correlated_exists
from ...extensions import db
from ..models import Click, Commission, Conversion, Credit


def clicked_offer_sql(
    user_id, since: datetime, *, unless: Callable[[Any, Any], ColumnElement[bool]]
) -> ColumnElement[bool]:
    """The member clicked a merchant's offer link since ``since`` and ``unless(click's
    created_at, click's merchant user id)`` is false for that click (e.g. "bought from
    that merchant since": the caller builds it from the shop's service)."""
    return correlated_exists(
        Click,
        Click.user_id == user_id,
        Click.created_at >= since,
        Click.merchant_id.is_not(None),
        not_(unless(Click.created_at, Click.merchant_id)),
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


def _touch_filter(model, embed: tuple[str, int] | None, source: tuple[str, int] | None):
    where = []
    if embed is not None:
        where += [model.embed_kind == embed[0], model.embed_id == embed[1]]
    if source is not None:
        where += [model.source_kind == source[0], model.source_id == source[1]]
    return where


def offer_clicks(
    *, embed: tuple[str, int] | None = None, source: tuple[str, int] | None = None
) -> Select:
    """``SELECT user_id, at, source_kind, source_id, author_id, embed_kind, embed_id`` of
    members' clicks (not the author's own) on an offer (``embed``: kind, id) and/or from a
    source (a ``("campaign", id)``), to aggregate as a subquery (insight's participants;
    the roll-up keys them by offer and by source)."""
    return select(
        Click.user_id.label("user_id"),
        Click.created_at.label("at"),
        Click.source_kind.label("source_kind"),
        Click.source_id.label("source_id"),
        Click.author_id.label("author_id"),
        Click.embed_kind.label("embed_kind"),
        Click.embed_id.label("embed_id"),
    ).where(
        Click.user_id.is_not(None), Click.is_self.is_(False), *_touch_filter(Click, embed, source)
    )


def credited_order_ids(
    *, embed: tuple[str, int] | None = None, source: tuple[str, int] | None = None
) -> Select:
    """``SELECT order_id`` of the orders credited to the touches on an offer and/or from a
    source, reversed ones included (the ledgers that cost them net their own reversals):
    insight sums what the members' programme spent on them."""
    return (
        select(Conversion.order_id.label("order_id"))
        .join(Credit, Credit.conversion_id == Conversion.id)
        .where(
            Conversion.kind == "order",
            Conversion.order_id.is_not(None),
            *_touch_filter(Credit, embed, source),
        )
        .distinct()
    )


def offer_costs(
    *, embed: tuple[str, int] | None = None, source: tuple[str, int] | None = None
) -> dict[str, int]:
    """What the commission ledger holds for the touches on an offer and/or from a source,
    reversals included: ``commission_cents`` (orders, CPS) and ``cpa_cents`` (actions)."""
    is_order = Conversion.kind == "order"
    row = db.session.execute(
        select(
            func.coalesce(func.sum(case((is_order, Commission.amount_cents), else_=0)), 0),
            func.coalesce(func.sum(case((is_order, 0), else_=Commission.amount_cents)), 0),
        )
        .select_from(Commission)
        .join(Credit, Credit.id == Commission.credit_id)
        .join(Conversion, Conversion.id == Commission.conversion_id)
        .where(*_touch_filter(Credit, embed, source))
    ).one()
    return {"commission_cents": int(row[0]), "cpa_cents": int(row[1])}


def _costs_keyed(kind, ident, *where) -> dict[tuple[str, int], dict[str, int]]:
    """``offer_costs`` per (``kind``, ``ident``) column pair of the credits, in one aggregate."""
    is_order = Conversion.kind == "order"
    rows = db.session.execute(
        select(
            kind,
            ident,
            func.coalesce(func.sum(case((is_order, Commission.amount_cents), else_=0)), 0),
            func.coalesce(func.sum(case((is_order, 0), else_=Commission.amount_cents)), 0),
        )
        .select_from(Commission)
        .join(Credit, Credit.id == Commission.credit_id)
        .join(Conversion, Conversion.id == Commission.conversion_id)
        .where(*where)
        .group_by(kind, ident)
    )
    return {
        (key, int(key_id)): {"commission_cents": int(cps), "cpa_cents": int(cpa)}
        for key, key_id, cps, cpa in rows
        if key_id is not None
    }


def _order_keys(kind, ident, *where) -> Select:
    """``SELECT kind, ident, order_id`` of the orders credited, keyed by a credit column pair."""
    return select(
        kind.label("kind"), ident.label("ident"), Conversion.order_id.label("order_id")
    ).where(
        Credit.conversion_id == Conversion.id,
        Conversion.kind == "order",
        Conversion.order_id.is_not(None),
        *where,
    )


def offer_costs_by_embed(merchant_user_id: int) -> dict[tuple[str, int], dict[str, int]]:
    """``offer_costs`` for every offer of the merchant at once: ``(embed kind, id) ->
    {commission_cents, cpa_cents}`` in one aggregate (insight's roll-up)."""
    return _costs_keyed(
        Credit.embed_kind,
        Credit.embed_id,
        Commission.merchant_id == merchant_user_id,
        Credit.embed_kind.is_not(None),
    )


def credited_order_keys(merchant_user_id: int) -> Select:
    """``SELECT kind, ident, order_id``: ``credited_order_ids`` for every offer of the
    merchant at once (embed kind and id as kind and ident)."""
    return _order_keys(
        Credit.embed_kind,
        Credit.embed_id,
        Conversion.merchant_id == merchant_user_id,
        Credit.embed_kind.is_not(None),
    )


def offer_costs_by_source(source_kind: str, ids) -> dict[tuple[str, int], dict[str, int]]:
    """``offer_costs(source=...)`` for several sources of one kind at once (a merchant's
    campaigns): ``(kind, id) -> {commission_cents, cpa_cents}`` in one aggregate."""
    return _costs_keyed(
        Credit.source_kind,
        Credit.source_id,
        Credit.source_kind == source_kind,
        Credit.source_id.in_(list(ids)),
    )


def credited_order_keys_by_source(source_kind: str, ids) -> Select:
    """``SELECT kind, ident, order_id``: ``credited_order_ids(source=...)`` for several
    sources of one kind at once (source kind and id as kind and ident)."""
    return _order_keys(
        Credit.source_kind,
        Credit.source_id,
        Credit.source_kind == source_kind,
        Credit.source_id.in_(list(ids)),
    )
