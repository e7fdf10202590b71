"""Promotion evaluation: did a promotion create customers, and what did it cost?

For one promotion (a product card, snap-up, group-buy, Dutch auction, guessing game,
coupon or campaign) over a period (its start to today unless asked):

**Exposed** members: for a widget, the members who saw it in a post or chat message
(``insight_exposures``: a member's first sight of a widget per source, recorded after
the page was built); for a campaign, everyone it was sent to; for a coupon, everyone a
started campaign carrying its code was sent to, or, when no campaign carries it, the
members who read down to a live post giving the code (from the post's time: the board
keeps how far a member read, not when; coupons are not issued member by member). The
merchant is never counted.

**Unexposed** (the control): a campaign's random holdout when there is one (a coupon's
campaigns' holdouts). Otherwise comparable members: registered before the period
ends, active in the period (wrote a post, or saw any other widget) and not exposed,
matched to the exposed by **exact stratification** on two facts before the period:
wrote a post in the 30 days before, bought anything in the 90 days before (4 strata).
The control's per-member figures in a stratum stand for what that stratum's exposed
would have done unexposed; exposed members of a stratum with no control are left out
of the lift and counted as ``unmatched``.

**Outcomes**: orders bought (paid, shipped, completed) from the promotion's merchant in
the period, for an exposed member from their first exposure on, for a matched control
member from their first act in the period (a post, a sight of another widget), for a
holdout member from the period's start.

**Incremental** orders (and revenue) = sum over strata of
``n_exposed * (mean_exposed - mean_control)``, with a 95% interval by the **normal
approximation**: variance = sum of ``n_exposed^2 * (s2_exposed/n_exposed +
s2_control/n_control)`` (sample variances, n-1; 0 for a group of one).

**Cost** is summed from the ledgers: the discount the promotion gave (promotions', the
coupon's redemptions), commission (CPS) and CPA (attribution's commission ledger, with
reversals), and what the members' ledgers spent on the promotion's orders (its own orders,
the orders credited to its touches, its coupon's): VIP perks granted and points earned,
valued at the points' rate (``members.order_costs``; points paid with are reported, not
costed, as the order totals are net of them). **ROI** = incremental margin / cost, the margin being
``EVALUATION_MARGIN_BP`` of incremental revenue; None when nothing was spent.

**Sales opportunities**: participants (clicked the widget or the campaign's links,
joined a team, bought a snap-up or auction unit, guessed, used the coupon) who had not
bought from the merchant when they first took part; ``converted``: how many of them
bought anything within 30 days of that.

Every figure is an aggregate statement; Python only combines the four strata.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    Select,
    and_,
    case,
    distinct,
    func,
    literal,
    select,
    union_all,
)

from ...accounts import service as accounts
from ...attribution import service as attribution
from ...board import service as board
from ...clock import now
from ...errors import ServiceError
from ...extensions import db
from ...members import service as members
from ...promotions import service as promotions
from ...shop_embed import service as shop
from ..models import Exposure
from . import period
from .health import _seconds
from .stats import Group, lift
from .subjects import BadRequest, Subject, owned_subject

PRIOR_POSTS_DAYS = 30
PRIOR_PURCHASE_DAYS = 90
OPPORTUNITY_DAYS = 30
MAX_DAYS = period.MAX_DAYS
TOP_SOURCES = 50
METHOD = (
    "Exposed: members who saw the widget (or were sent the campaign). Unexposed: the "
    "campaign's random holdout when there is one, else members active in the same period "
    "who did not see it, matched by exact strata of posting (30 days before) and buying "
    "(90 days before). Interval: 95%, normal approximation."
)


def parse_period(
    raw_from, raw_to, starts_at: datetime | None, *, error: type[ServiceError] = BadRequest
) -> tuple[date, date]:
    """[from, to] days (inclusive): the promotion's start to today by default."""
    return period.parse_days(
        raw_from,
        raw_to,
        today=now().date(),
        default_start=lambda last: starts_at.date() if starts_at else last - timedelta(days=29),
        error=error,
        message="The period is not valid.",
    )


# --- the figures -----------------------------------------------------------------------


def _distinct_users(statement: Select):
    inner = statement.subquery()
    return select(inner.c.user_id).group_by(inner.c.user_id).cte()


def active_pool(merchant_user_id: int | None, start: datetime, end: datetime) -> Select:
    """``user_id, at``: the members registered before ``end`` who acted in [start, end)
    (wrote a post, saw any widget), from their first act, the merchant left out: the
    comparable members a control is drawn from."""
    everyone = accounts.members_sql().cte()
    posts = board.posts_between(start, end).cte()
    acts = union_all(
        select(posts.c.author_id.label("user_id"), posts.c.created_at.label("at")),
        select(Exposure.user_id.label("user_id"), Exposure.first_seen_at.label("at")).where(
            Exposure.first_seen_at >= start, Exposure.first_seen_at < end
        ),
    ).subquery()
    active = select(acts.c.user_id, func.min(acts.c.at).label("at")).group_by(acts.c.user_id).cte()
    # A control member counts from their first act in the period, as an exposed member
    # does from their first sight: both windows start when they were around.
    pool = (
        select(everyone.c.user_id, active.c.at)
        .join(active, active.c.user_id == everyone.c.user_id)
        .where(everyone.c.created_at < end)
    )
    if merchant_user_id is not None:
        pool = pool.where(everyone.c.user_id != merchant_user_id)
    return pool


def _groups(found: Subject, start: datetime, end: datetime):
    """``user_id, at, grp`` of the exposed (from their first sight) and the control."""
    raw = found.exposed.cte()
    exposed = (
        select(raw.c.user_id, func.min(raw.c.at).label("at"))
        .where(raw.c.at < end, raw.c.user_id.is_not(None))
        .group_by(raw.c.user_id)
    )
    if found.merchant_user_id is not None:
        exposed = exposed.where(raw.c.user_id != found.merchant_user_id)
    first_sight = exposed.cte()
    exposed_ids = select(first_sight.c.user_id)
    if found.holdout is not None:
        held = found.holdout.cte()
        pool = select(held.c.user_id, literal(start).label("at"))
    else:
        active = active_pool(found.merchant_user_id, start, end).cte()
        pool = select(active.c.user_id, active.c.at).where(active.c.user_id.not_in(exposed_ids))
    control = pool.cte()
    return union_all(
        select(first_sight.c.user_id, first_sight.c.at, literal("exposed").label("grp")),
        select(control.c.user_id, control.c.at, literal("control").label("grp")),
    ).cte()


def _strata_rows(found: Subject, start: datetime, end: datetime) -> list[Any]:
    """Per (group, stratum): members, buyers, sums and sums of squares of orders and revenue."""
    return aggregate(
        _groups(found, start, end),
        ("grp",),
        found.merchant_user_id,
        start,
        end,
        matching=found.holdout is None,
    )


def aggregate(
    groups, keys: tuple[str, ...], merchant_user_id: int | None, start, end, *, matching: bool
) -> list[Any]:
    """One statement over ``groups`` (a CTE of ``user_id, at`` and the ``keys`` columns):
    per (keys..., stratum) the members, buyers, and sums and sums of squares of the orders
    and revenue each member gave the merchant from their ``at`` within [start, end).
    Stratum 0 for all unless ``matching`` (the four strata of posting and buying before)."""
    if merchant_user_id is None:
        orders = (
            select(
                literal(0).label("buyer_id"),
                literal(start).label("created_at"),
                literal(0).label("total_cents"),
            )
            .where(literal(False))
            .cte()
        )
    else:
        orders = shop.merchant_orders_between(merchant_user_id, start, end).cte()
    key_columns = [groups.c[key] for key in keys]
    if matching:
        posted = _distinct_users(
            select(
                board.posts_between(start - timedelta(days=PRIOR_POSTS_DAYS), start)
                .cte()
                .c.author_id.label("user_id")
            )
        )
        bought = _distinct_users(
            select(
                shop.purchases_between(start - timedelta(days=PRIOR_PURCHASE_DAYS), start)
                .cte()
                .c.buyer_id.label("user_id")
            )
        )
        stratum = case((posted.c.user_id.is_not(None), 2), else_=0) + case(
            (bought.c.user_id.is_not(None), 1), else_=0
        )
    else:
        stratum = literal(0)
    per_member = (
        select(
            *key_columns,
            stratum.label("stratum"),
            func.count(orders.c.buyer_id).label("orders"),
            func.coalesce(func.sum(orders.c.total_cents), 0).label("revenue"),
        )
        .select_from(groups)
        .outerjoin(
            orders, and_(orders.c.buyer_id == groups.c.user_id, orders.c.created_at >= groups.c.at)
        )
    )
    if matching:
        per_member = per_member.outerjoin(posted, posted.c.user_id == groups.c.user_id).outerjoin(
            bought, bought.c.user_id == groups.c.user_id
        )
        per_member = per_member.group_by(
            groups.c.user_id, *key_columns, posted.c.user_id, bought.c.user_id
        )
    else:
        per_member = per_member.group_by(groups.c.user_id, *key_columns)
    m = per_member.cte()
    m_keys = [m.c[key] for key in keys]
    return list(
        db.session.execute(
            select(
                *m_keys,
                m.c.stratum,
                func.count(),
                func.count(case((m.c.orders > 0, 1))),
                func.sum(m.c.orders),
                func.sum(m.c.orders * m.c.orders),
                func.sum(m.c.revenue),
                func.sum(m.c.revenue * m.c.revenue),
            ).group_by(*m_keys, m.c.stratum)
        )
    )


def _participation(found: Subject, start: datetime, end: datetime) -> dict[str, int]:
    acts = found.participants.subquery()
    first = (
        select(acts.c.user_id, func.min(acts.c.at).label("at"))
        .where(acts.c.at >= start, acts.c.at < end, acts.c.user_id.is_not(None))
        .group_by(acts.c.user_id)
        .subquery()
    )
    participants = int(db.session.scalar(select(func.count()).select_from(first)) or 0)
    if found.merchant_user_id is None:
        return {"participants": participants, "opportunities": 0, "converted": 0}
    before = shop.merchant_orders_between(
        found.merchant_user_id, start - timedelta(days=MAX_DAYS * 10), end
    ).subquery()
    had_bought = (
        select(before.c.buyer_id)
        .where(before.c.buyer_id == first.c.user_id, before.c.created_at <= first.c.at)
        .exists()
    )
    later = shop.purchases_between(start, end + timedelta(days=OPPORTUNITY_DAYS)).subquery()
    bought_later = (
        select(later.c.buyer_id)
        .where(
            later.c.buyer_id == first.c.user_id,
            later.c.created_at > first.c.at,
            _seconds(later.c.created_at, first.c.at) <= OPPORTUNITY_DAYS * 86400,
        )
        .exists()
    )
    row = db.session.execute(
        select(func.count(), func.count(case((bought_later, 1))))
        .select_from(first)
        .where(~had_bought)
    ).one()
    return {"participants": participants, "opportunities": int(row[0]), "converted": int(row[1])}


def _sources(found: Subject, start: datetime, end: datetime) -> list[dict]:
    """Per post or chat message (and its author): reach, clickers, buyers, orders, revenue."""
    if not found.by_source:
        return []
    seen = (
        select(
            Exposure.source_kind,
            Exposure.source_id,
            Exposure.author_id,
            Exposure.user_id,
            Exposure.first_seen_at,
        )
        .where(
            Exposure.embed_kind == found.kind,
            Exposure.embed_id == found.id,
            Exposure.first_seen_at < end,
        )
        .subquery()
    )
    if found.merchant_user_id is not None:
        orders = shop.merchant_orders_between(found.merchant_user_id, start, end).subquery()
        buyer = orders.c.buyer_id
        on = and_(orders.c.buyer_id == seen.c.user_id, orders.c.created_at >= seen.c.first_seen_at)
        figures = [
            func.count(distinct(buyer)),
            func.count(buyer),
            func.coalesce(func.sum(orders.c.total_cents), 0),
        ]
    people = accounts.members_sql().subquery()
    statement = (
        select(
            seen.c.source_kind,
            seen.c.source_id,
            seen.c.author_id,
            people.c.username,
            func.count(distinct(seen.c.user_id)),
            *(figures if found.merchant_user_id is not None else ()),
        )
        .select_from(seen)
        .outerjoin(people, people.c.user_id == seen.c.author_id)
        .group_by(seen.c.source_kind, seen.c.source_id, seen.c.author_id, people.c.username)
        .order_by(func.count(distinct(seen.c.user_id)).desc(), seen.c.source_id)
        .limit(TOP_SOURCES)
    )
    if found.merchant_user_id is not None:
        statement = statement.outerjoin(orders, on)
    clicks = attribution.offer_clicks(embed=(found.kind, found.id)).subquery()
    clickers = {
        (kind, ident): int(n)
        for kind, ident, n in db.session.execute(
            select(clicks.c.source_kind, clicks.c.source_id, func.count(distinct(clicks.c.user_id)))
            .where(clicks.c.at >= start, clicks.c.at < end)
            .group_by(clicks.c.source_kind, clicks.c.source_id)
        )
    }
    rows = []
    for row in db.session.execute(statement):
        kind, ident, author_id, username, reach = row[:5]
        buyers, orders_n, revenue = row[5:8] if len(row) > 5 else (0, 0, 0)
        rows.append(
            {
                "source_kind": kind,
                "source_id": int(ident),
                "author_id": author_id,
                "author": username,
                "reach": int(reach),
                "clickers": clickers.get((kind, ident), 0),
                "buyers": int(buyers or 0),
                "orders": int(orders_n or 0),
                "revenue_cents": int(revenue or 0),
            }
        )
    return rows


def _figures(group: Group) -> dict:
    return {
        "members": group.n,
        "buyers": group.buyers,
        "orders": int(group.orders),
        "revenue_cents": int(group.revenue),
        "orders_per_member": round(group.mean("orders"), 6),
        "revenue_per_member_cents": round(group.mean("revenue"), 2),
    }


def _rounded(interval: dict[str, float], digits: int) -> dict[str, float]:
    return {key: round(value, digits) for key, value in interval.items()}


def evaluate(
    kind: str,
    ident: int,
    *,
    merchant_user_id: int | None,
    raw_from: str | None = None,
    raw_to: str | None = None,
) -> dict:
    """The evaluation of one promotion for its merchant (``merchant_user_id``; None for an
    admin): every figure the module docstring describes, as plain data."""
    found = owned_subject(kind, ident, merchant_user_id)
    first, last = parse_period(raw_from, raw_to, found.starts_at)
    start, end = period.bounds(first, last)
    strata: dict[int, dict[str, Group]] = {}
    for grp, stratum, n, buyers, orders, orders_sq, revenue, revenue_sq in _strata_rows(
        found, start, end
    ):
        strata.setdefault(int(stratum), {"exposed": Group(), "control": Group()})[grp] = Group.of(
            n, buyers, orders, orders_sq, revenue, revenue_sq
        )
    exposed, control = Group(), Group()
    unmatched = 0
    for groups in strata.values():
        exposed.add(groups["exposed"])
        control.add(groups["control"])
        if not groups["control"].n:
            unmatched += groups["exposed"].n
    orders = lift(strata, "orders")
    revenue = lift(strata, "revenue")
    margin_bp = int(current_app.config["EVALUATION_MARGIN_BP"])
    spent = members.order_costs(select(found.orders.subquery().c.order_id))
    cost = {
        "discount_cents": found.discount_cents,
        "commission_cents": found.commission_cents,
        "cpa_cents": found.cpa_cents,
        "perks_cents": spent["perks_cents"],
        "points_cents": spent["points_cents"],
    }
    cost["total_cents"] = sum(cost.values())
    cost["points_granted"] = spent["points_granted"]
    cost["points_redeemed"] = spent["points_redeemed"]
    margin = {key: value * margin_bp / 10000 for key, value in revenue.items()}
    roi = (
        _rounded({key: value / cost["total_cents"] for key, value in margin.items()}, 4)
        if cost["total_cents"] > 0
        else None
    )
    return {
        "kind": found.kind,
        "id": found.id,
        "label": found.label,
        "merchant_id": found.merchant_user_id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "control": "holdout" if found.holdout is not None else "matched",
        "method": METHOD,
        "reach": exposed.n,
        "exposed": _figures(exposed),
        "unexposed": _figures(control),
        "unmatched": unmatched,
        "incremental_orders": _rounded(orders, 4),
        "incremental_revenue_cents": _rounded(revenue, 2),
        "incremental_margin_cents": _rounded(margin, 2),
        "margin_bp": margin_bp,
        "cost": cost,
        "roi": roi,
        "opportunities": _participation(found, start, end),
        "sources": _sources(found, start, end),
    }


def promotions_list(merchant_user_id: int | None) -> list[dict]:
    """A merchant's promotions (every promotion for None: the admin) to pick from, each
    with its merchant's name (one statement for all of them)."""
    rows: list[dict[str, Any]] = [
        {"kind": kind, "id": ident, "label": label, "merchant_id": owner}
        for kind, ident, label, owner in promotions.promotions_of(merchant_user_id)
    ]
    rows += [
        {"kind": "coupon", "id": ident, "label": f"Coupon: {code}", "merchant_id": owner}
        for ident, code, owner in members.coupons_of(merchant_user_id)
    ]
    owners = {row["merchant_id"] for row in rows if row["merchant_id"] is not None}
    people = accounts.members_sql().subquery()
    names: dict[int, str] = {}
    if owners:
        statement = select(people.c.user_id, people.c.username).where(people.c.user_id.in_(owners))
        names = {int(user_id): name for user_id, name in db.session.execute(statement)}
    for row in rows:
        owner = row["merchant_id"]
        row["merchant"] = names.get(owner) if owner is not None else "site"
    return rows
