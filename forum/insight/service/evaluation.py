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

import csv
import io
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, g, has_request_context
from flask_login import current_user
from sqlalchemy import (
    CompoundSelect,
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
from ...campaigns import service as campaigns
from ...clock import now
from ...database import insert_ignore
from ...errors import NotFound, ServiceError
from ...extensions import db
from ...members import service as members
from ...promotions import service as promotions
from ...shop_embed import service as shop
from ..models import Exposure
from .health import _seconds

WIDGET_KINDS = ("product", "snap", "groupbuy", "auction", "guess")
KINDS = (*WIDGET_KINDS, "coupon", "campaign")
SOURCES = ("post", "message")
Z95 = 1.96
PRIOR_POSTS_DAYS = 30
PRIOR_PURCHASE_DAYS = 90
OPPORTUNITY_DAYS = 30
MAX_DAYS = 366
TOP_SOURCES = 50
METHOD = (
    "Exposed: members who saw the widget (or were sent the campaign). Unexposed: the "
    "campaign's random holdout when there is one, else members active in the same period "
    "who did not see it, matched by exact strata of posting (30 days before) and buying "
    "(90 days before). Interval: 95%, normal approximation."
)
_PENDING = "plaza_insight_exposures"


class BadRequest(ServiceError, status=400, code="bad_request", message="The request is not valid."):
    """A promotion kind or a period that cannot be evaluated."""


# --- recording exposures ---------------------------------------------------------------


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


# --- the promotion under evaluation ----------------------------------------------------


@dataclass
class Subject:
    kind: str
    id: int
    label: str
    merchant_user_id: int | None
    starts_at: datetime | None
    exposed: Select  # user_id, at
    holdout: Select | None  # user_id
    participants: Select | CompoundSelect  # user_id, at
    discount_cents: int
    commission_cents: int
    cpa_cents: int
    by_source: bool
    orders: Select | CompoundSelect  # order_id: the orders whose perks and points it cost


def _widget_exposed(kind: str, ident: int) -> Select:
    return (
        select(Exposure.user_id.label("user_id"), func.min(Exposure.first_seen_at).label("at"))
        .where(Exposure.embed_kind == kind, Exposure.embed_id == ident)
        .group_by(Exposure.user_id)
    )


def _clicks(**where) -> Select:
    clicks = attribution.offer_clicks(**where).subquery()
    return select(clicks.c.user_id, clicks.c.at)


def _first_at(acts: Select) -> Select:
    inner = acts.subquery()
    return select(inner.c.user_id, func.min(inner.c.at).label("at")).group_by(inner.c.user_id)


def _audience(audience: Select, *, holdout: bool) -> Select:
    planned = audience.subquery()
    return select(planned.c.user_id, planned.c.at).where(planned.c.holdout.is_(holdout))


def subject(kind: str, ident: int) -> Subject | None:
    """The promotion ``kind``/``ident`` with its exposure, control, participants and
    costs as the owners hand them; None when there is no such promotion."""
    if kind in WIDGET_KINDS:
        facts = (
            shop.product_facts(ident)
            if kind == "product"
            else promotions.promotion_facts(kind, ident)
        )
        if facts is None:
            return None
        participants: Select | CompoundSelect = _clicks(embed=(kind, ident))
        if kind != "product":
            participants = union_all(participants, facts["participants"])
        costs = attribution.offer_costs(embed=(kind, ident))
        credited = attribution.credited_order_ids(embed=(kind, ident))
        return Subject(
            kind,
            ident,
            facts["label"],
            facts["merchant_user_id"],
            facts["starts_at"],
            _widget_exposed(kind, ident),
            None,
            participants,
            int(facts.get("discount_cents", 0)),
            costs["commission_cents"],
            costs["cpa_cents"],
            True,
            union_all(credited, facts["orders"]) if "orders" in facts else credited,
        )
    if kind == "campaign":
        facts = campaigns.audience_facts(ident)
        if facts is None:
            return None
        exposed = _audience(facts["audience"], holdout=False)
        costs = attribution.offer_costs(source=("campaign", ident))
        recipients = select(exposed.subquery().c.user_id)
        discount = (
            members.coupon_discount_by(facts["coupon_code"], recipients)
            if facts["coupon_code"]
            else 0
        )
        orders: Select | CompoundSelect = attribution.credited_order_ids(source=("campaign", ident))
        if facts["coupon_code"]:
            orders = union_all(orders, members.coupon_orders_by(facts["coupon_code"], recipients))
        return Subject(
            kind,
            ident,
            facts["label"],
            facts["owner_id"],
            facts["starts_at"],
            exposed,
            select(_audience(facts["audience"], holdout=True).subquery().c.user_id)
            if facts["holdout_bp"]
            else None,
            _clicks(source=("campaign", ident)),
            discount,
            costs["commission_cents"],
            costs["cpa_cents"],
            False,
            orders,
        )
    if kind == "coupon":
        facts = members.coupon_facts(ident)
        if facts is None:
            return None
        carriers = campaigns.campaigns_with_code(facts["code"])
        if carriers:
            audience = campaigns.audience_sql(carriers)
            exposed = _audience(audience, holdout=False)
            holdout = select(_audience(audience, holdout=True).subquery().c.user_id)
        else:
            # No campaign carries it: the members who read a post giving the code, against
            # matched members (coupons are not issued to members one by one).
            exposed, holdout = _first_at(board.readers_of_posts_with(facts["code"])), None
        return Subject(
            kind,
            ident,
            facts["label"],
            facts["merchant_user_id"],
            facts["starts_at"],
            exposed,
            holdout,
            facts["participants"],
            facts["discount_cents"],
            0,
            0,
            False,
            facts["orders"],
        )
    return None


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise BadRequest(
            "Unknown promotion kind.", fields={"kind": [f"Use one of {', '.join(KINDS)}."]}
        )


def owned_subject(kind: str, ident: int, merchant_user_id: int | None) -> Subject:
    """The promotion, if ``merchant_user_id`` owns it (None: an admin, any promotion);
    another merchant's promotion is not found, so its existence is not disclosed."""
    check_kind(kind)
    found = subject(kind, ident)
    if found is None or (
        merchant_user_id is not None and found.merchant_user_id != merchant_user_id
    ):
        raise NotFound("No such promotion.")
    return found


def parse_period(raw_from, raw_to, starts_at: datetime | None) -> tuple[date, date]:
    """[from, to] days (inclusive): the promotion's start to today by default."""
    fields: dict[str, list[str]] = {}
    parsed: dict[str, date | None] = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        parsed[name] = None
        if raw in (None, ""):
            continue
        try:
            parsed[name] = date.fromisoformat(str(raw))
        except ValueError:
            fields[name] = ["Use a date like 2026-03-01."]
    if fields:
        raise BadRequest("The period is not valid.", fields=fields)
    end = parsed["to"] or now().date()
    start = parsed["from"] or (starts_at.date() if starts_at else end - timedelta(days=29))
    start = min(start, end) if parsed["from"] is None else start
    if start > end:
        raise BadRequest("The period is not valid.", fields={"from": ["Must not be after to."]})
    if (end - start).days + 1 > MAX_DAYS:
        raise BadRequest(
            "The period is not valid.", fields={"to": [f"Ask for at most {MAX_DAYS} days."]}
        )
    return start, end


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


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


@dataclass
class _Group:
    n: int = 0
    buyers: int = 0
    orders: float = 0.0
    orders_sq: float = 0.0
    revenue: float = 0.0
    revenue_sq: float = 0.0

    @classmethod
    def of(cls, n, buyers, orders, orders_sq, revenue, revenue_sq) -> _Group:
        """From one of ``aggregate``'s rows (after its keys and stratum)."""
        return cls(
            int(n),
            int(buyers),
            float(orders or 0),
            float(orders_sq or 0),
            float(revenue or 0),
            float(revenue_sq or 0),
        )

    def add(self, other: _Group, sign: int = 1) -> None:
        for name in ("n", "buyers", "orders", "orders_sq", "revenue", "revenue_sq"):
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))

    def minus(self, other: _Group) -> _Group:
        left = _Group()
        left.add(self)
        left.add(other, -1)
        return left

    def mean(self, what: str) -> float:
        return getattr(self, what) / self.n if self.n else 0.0

    def variance(self, what: str) -> float:
        if self.n < 2:
            return 0.0
        total, squares = getattr(self, what), getattr(self, f"{what}_sq")
        return max(0.0, (squares - total * total / self.n) / (self.n - 1))


def lift(strata: dict[int, dict[str, _Group]], what: str) -> dict[str, float]:
    """Incremental ``what`` (orders or revenue) over the strata with both groups, and its
    95% normal-approximation interval (see the module docstring)."""
    value = variance = 0.0
    for groups in strata.values():
        exposed, control = groups["exposed"], groups["control"]
        if not exposed.n or not control.n:
            continue
        value += exposed.n * (exposed.mean(what) - control.mean(what))
        variance += exposed.n**2 * (
            exposed.variance(what) / exposed.n + control.variance(what) / control.n
        )
    half = Z95 * math.sqrt(variance)
    return {"value": value, "low": value - half, "high": value + half}


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


def _figures(group: _Group) -> dict:
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
    start, end = _moment(first), _moment(last + timedelta(days=1))
    strata: dict[int, dict[str, _Group]] = {}
    for grp, stratum, n, buyers, orders, orders_sq, revenue, revenue_sq in _strata_rows(
        found, start, end
    ):
        strata.setdefault(int(stratum), {"exposed": _Group(), "control": _Group()})[grp] = (
            _Group.of(n, buyers, orders, orders_sq, revenue, revenue_sq)
        )
    exposed, control = _Group(), _Group()
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


CSV_FIELDS = ("group", "members", "buyers", "orders", "revenue_cents", "orders_per_member")


def to_csv(report: dict) -> str:
    """The evaluation as CSV: the two groups, the lift, costs, and the per-source table."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["promotion", report["label"], "from", report["from"], "to", report["to"]])
    writer.writerow(CSV_FIELDS)
    for name in ("exposed", "unexposed"):
        group = report[name]
        writer.writerow([name, *(group[key] for key in CSV_FIELDS[1:])])
    writer.writerow(["figure", "value", "low", "high"])
    for name in ("incremental_orders", "incremental_revenue_cents", "incremental_margin_cents"):
        figure = report[name]
        writer.writerow([name, figure["value"], figure["low"], figure["high"]])
    if report["roi"] is not None:
        writer.writerow(
            ["roi", report["roi"]["value"], report["roi"]["low"], report["roi"]["high"]]
        )
    for name, value in report["cost"].items():
        writer.writerow([f"cost_{name}", value])
    for name, value in report["opportunities"].items():
        writer.writerow([name, value])
    if report["sources"]:
        writer.writerow(
            [
                "source_kind",
                "source_id",
                "author",
                "reach",
                "clickers",
                "buyers",
                "orders",
                "revenue_cents",
            ]
        )
        for row in report["sources"]:
            writer.writerow(
                [
                    row["source_kind"],
                    row["source_id"],
                    row["author"] or "",
                    row["reach"],
                    row["clickers"],
                    row["buyers"],
                    row["orders"],
                    row["revenue_cents"],
                ]
            )
    return out.getvalue()
