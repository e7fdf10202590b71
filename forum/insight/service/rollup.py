"""A merchant's promotions side by side: each one's reach, incremental revenue, cost and
ROI over one period, in a bounded number of statements whatever the number of promotions.

The figures are ``evaluate``'s (see ``evaluation``), for the widgets (product cards,
snap-ups, group-buys, auctions, guessing games), coupons and campaigns of one merchant
over one period. Two kinds of control, as ``evaluate`` chooses them:

- **matched** (widgets, a campaign without a holdout, a coupon no campaign carries): a
  control member's window starts at their first act in the period whichever promotion is
  measured, so a promotion's control in a stratum is the whole active pool's sums
  **minus** the sums of the pool members it exposed (sums and sums of squares subtract).
  One statement gives the pool's per-stratum sums; one gives, per promotion and stratum,
  the exposed members' sums (from their first sight, receipt or read) and the sums the
  same members bring to the pool (from their first act).
- **holdout** (a campaign with one, a coupon its campaigns carry): one statement gives,
  per promotion, the sums of the recipients and of the random holdout.

The costs come from their owners, each keyed by promotion in one aggregate: promotions'
discounts (one per kind), the coupons' uses (coupons' and campaigns' discounts), the
commission and CPA by offer and by campaign, and the members' perks and points on every
promotion's orders (two aggregates over one keyed union).

``admin_rollup`` runs the merchant roll-up for every merchant (a bounded number of
statements per merchant) and totals each one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, distinct, func, literal, or_, select, union_all

from ...attribution import service as attribution
from ...board import service as board
from ...campaigns import service as campaigns
from ...errors import ValidationFailed
from ...extensions import db
from ...members import service as members
from ...promotions import service as promotions
from ...shop_embed import service as shop
from ..models import Exposure
from . import period
from .evaluation import active_pool, aggregate, parse_period
from .stats import Group, lift

Key = tuple[str, int]


def _keys_filter(merchant_user_id: int, listed: list[tuple[str, int, str]], kind_col, id_col):
    """The merchant's widgets among rows keyed by ``kind_col``/``id_col`` (exposures,
    clicks, deal acts): its listed promotions, its products."""
    by_kind: dict[str, list[int]] = {}
    for kind, ident, _label in listed:
        by_kind.setdefault(kind, []).append(ident)
    clauses = [and_(kind_col == kind, id_col.in_(ids)) for kind, ids in by_kind.items()]
    clauses.append(
        and_(kind_col == "product", id_col.in_(shop.merchant_product_ids(merchant_user_id)))
    )
    return or_(*clauses)


def _strata(rows) -> dict:
    """``aggregate`` rows (kind, ident, grp, stratum, sums...) as {(kind, ident, grp): {stratum: Group}}."""
    found: dict = {}
    for kind, ident, grp, stratum, *sums in rows:
        found.setdefault((kind, int(ident), grp), {})[int(stratum)] = Group.of(*sums)
    return found


class _Mailed:
    """The merchant's campaigns and coupons, and the audiences of the campaigns that
    expose them (a campaign its recipients, a coupon its carrying campaigns')."""

    def __init__(self, merchant_user_id: int):
        self.campaigns = campaigns.campaigns_of(merchant_user_id)
        self.coupons = [(ident, code) for ident, code, _m in members.coupons_of(merchant_user_id)]
        carriers = campaigns.carriers_of([code for _ident, code in self.coupons])
        #: campaign id -> the coupon (of this merchant) it carries
        self.carrier_of = {
            cid: ident for ident, code in self.coupons for cid in carriers.get(code, [])
        }
        self.carried = set(self.carrier_of.values())
        self.held = {c["id"] for c in self.campaigns if c["holdout_bp"]}
        self.codes = {
            c["id"]: members.normalise_code(c["coupon_code"])
            for c in self.campaigns
            if members.normalise_code(c["coupon_code"])
        }
        planned_ids = sorted({c["id"] for c in self.campaigns} | set(self.carrier_of))
        self.planned = campaigns.audience_sql(planned_ids).cte() if planned_ids else None
        all_codes = [code for _i, code in self.coupons] + list(self.codes.values())
        self.uses = members.coupon_uses_sql(all_codes).cte() if all_codes else None

    def keyed(self, kind: str, mapping: dict[int, int]):
        """``kind, ident, user_id, at, holdout`` of the audiences of the campaigns in
        ``mapping`` (campaign id -> the promotion's id), or None when there are none."""
        if self.planned is None or not mapping:
            return None
        p = self.planned.c
        ident = p.campaign_id if kind == "campaign" else case(mapping, value=p.campaign_id)
        return select(
            literal(kind).label("kind"),
            ident.label("ident"),
            p.user_id.label("user_id"),
            p.at.label("at"),
            p.holdout.label("holdout"),
        ).where(p.campaign_id.in_(sorted(mapping)))

    def matched_exposures(self) -> list:
        """``kind, ident, user_id, at`` of the exposed of the promotions measured against
        matched members: campaigns without a holdout, coupons no campaign carries."""
        parts = []
        unheld = {c["id"]: c["id"] for c in self.campaigns if c["id"] not in self.held}
        own = self.keyed("campaign", unheld)
        if own is not None:
            sub = own.subquery()
            parts.append(
                select(sub.c.kind, sub.c.ident, sub.c.user_id, sub.c.at).where(
                    sub.c.holdout.is_(False)
                )
            )
        for ident, code in self.coupons:
            if ident in self.carried:
                continue
            readers = board.readers_of_posts_with(code).subquery()
            parts.append(
                select(
                    literal("coupon").label("kind"),
                    literal(ident).label("ident"),
                    readers.c.user_id,
                    readers.c.at,
                )
            )
        return parts

    def holdout_groups(self, merchant_user_id: int, start: datetime, end: datetime):
        """``user_id, at, kind, ident, grp`` of the recipients (from their receipt) and the
        random holdout (from the period's start) of the promotions that have one."""
        parts = [
            part
            for part in (
                self.keyed("campaign", {cid: cid for cid in self.held}),
                self.keyed("coupon", self.carrier_of),
            )
            if part is not None
        ]
        if not parts:
            return None
        planned = union_all(*parts).cte()
        p = planned.c
        exposed = (
            select(p.user_id, func.min(p.at).label("at"), p.kind, p.ident)
            .where(
                p.holdout.is_(False),
                p.at < end,
                p.user_id.is_not(None),
                p.user_id != merchant_user_id,
            )
            .group_by(p.kind, p.ident, p.user_id)
            .subquery()
        )
        held = select(p.user_id, p.kind, p.ident).where(p.holdout.is_(True)).distinct().subquery()
        return union_all(
            select(
                exposed.c.user_id,
                exposed.c.at,
                exposed.c.kind,
                exposed.c.ident,
                literal("exposed").label("grp"),
            ),
            select(
                held.c.user_id,
                literal(start).label("at"),
                held.c.kind,
                held.c.ident,
                literal("control").label("grp"),
            ),
        ).cte()

    def discounts(self) -> dict[Key, int]:
        """What each coupon's live uses gave, and each campaign's coupon to its recipients."""
        if self.uses is None:
            return {}
        u = self.uses.c
        live = case((u.live, u.discount_cents), else_=0)
        parts: list[Any] = [
            select(literal("coupon").label("kind"), u.coupon_id.label("ident"), func.sum(live))
            .where(u.coupon_id.in_([ident for ident, _code in self.coupons] or [0]))
            .group_by(u.coupon_id)
        ]
        recipients = self._recipients_with_code()
        if recipients is not None:
            r = recipients.c
            parts.append(
                select(literal("campaign").label("kind"), r.ident, func.sum(live))
                .join(self.uses, and_(u.code == r.code, u.user_id == r.user_id))
                .group_by(r.ident)
            )
        return {
            (kind, int(ident)): max(0, int(cents or 0))
            for kind, ident, cents in db.session.execute(union_all(*parts))
        }

    def _recipients_with_code(self):
        """``ident, user_id, code``: recipients of the campaigns carrying a coupon code."""
        if self.planned is None or not self.codes:
            return None
        p = self.planned.c
        return (
            select(
                p.campaign_id.label("ident"),
                p.user_id.label("user_id"),
                case(self.codes, value=p.campaign_id).label("code"),
            )
            .where(p.holdout.is_(False), p.campaign_id.in_(sorted(self.codes)))
            .subquery()
        )

    def order_keys(self) -> list:
        """``kind, ident, order_id`` of the orders whose perks and points each cost: a
        coupon's every use, a campaign's credited orders and its coupon's uses."""
        parts: list[Any] = []
        if self.uses is not None and self.coupons:
            u = self.uses.c
            parts.append(
                select(
                    literal("coupon").label("kind"), u.coupon_id.label("ident"), u.order_id
                ).where(u.coupon_id.in_([ident for ident, _code in self.coupons]))
            )
        recipients = self._recipients_with_code()
        if recipients is not None and self.uses is not None:
            r, u = recipients.c, self.uses.c
            parts.append(
                select(literal("campaign").label("kind"), r.ident, u.order_id).join(
                    self.uses, and_(u.code == r.code, u.user_id == r.user_id)
                )
            )
        if self.campaigns:
            ids = [c["id"] for c in self.campaigns]
            parts.append(attribution.credited_order_keys_by_source("campaign", ids))
        return parts

    def commissions(self) -> dict[Key, dict[str, int]]:
        if not self.campaigns:
            return {}
        return attribution.offer_costs_by_source("campaign", [c["id"] for c in self.campaigns])

    def labels(self) -> dict[Key, tuple[str, str]]:
        """Every campaign and coupon, each with its label and control."""
        found = {
            ("campaign", c["id"]): (c["label"], "holdout" if c["id"] in self.held else "matched")
            for c in self.campaigns
        }
        for ident, code in self.coupons:
            found[("coupon", ident)] = (
                f"Coupon: {code}",
                "holdout" if ident in self.carried else "matched",
            )
        return found


def _participants(
    m: int, listed: list[tuple[str, int, str]], mailed: _Mailed, start: datetime, end: datetime
) -> dict[Key, int]:
    """``(kind, id) -> participants`` as ``evaluate`` counts them (members who took part in
    the period: clicked the widget or the campaign's links, joined, bought a unit,
    guessed, used the coupon), for every promotion of the merchant in one statement."""
    clicks = attribution.offer_clicks().subquery()
    deals = promotions.deal_participation_sql(before=end).subquery()
    parts: list[Any] = [
        select(clicks.c.embed_kind, clicks.c.embed_id, clicks.c.user_id, clicks.c.at).where(
            _keys_filter(m, listed, clicks.c.embed_kind, clicks.c.embed_id)
        ),
        select(deals.c.kind, deals.c.deal_id, deals.c.user_id, deals.c.at).where(
            _keys_filter(m, listed, deals.c.kind, deals.c.deal_id)
        ),
    ]
    if mailed.campaigns:
        parts.append(
            select(literal("campaign"), clicks.c.source_id, clicks.c.user_id, clicks.c.at).where(
                clicks.c.source_kind == "campaign",
                clicks.c.source_id.in_([c["id"] for c in mailed.campaigns]),
            )
        )
    if mailed.uses is not None and mailed.coupons:
        u = mailed.uses.c
        parts.append(
            select(literal("coupon"), u.coupon_id, u.user_id, u.at).where(
                u.live.is_(True), u.coupon_id.in_([ident for ident, _code in mailed.coupons])
            )
        )
    acts = union_all(*parts).subquery()
    kind, ident, user_id, at = acts.c
    statement = (
        select(kind, ident, func.count(distinct(user_id)))
        .where(at >= start, at < end, user_id.is_not(None))
        .group_by(kind, ident)
    )
    return {(k, int(i)): int(n) for k, i, n in db.session.execute(statement)}


def _totals(groups) -> Group:
    total = Group()
    for group in groups:
        total.add(group)
    return total


def _period(raw_from, raw_to):
    """The roll-up's days: the last 30 unless asked; a bad date is a field error (422),
    as community health's (a roll-up has no kind or promotion to be wrong about)."""
    return parse_period(raw_from, raw_to, None, error=ValidationFailed)


def merchant_rollup(
    merchant_user_id: int, raw_from: str | None = None, raw_to: str | None = None
) -> dict:
    """Every promotion of the merchant over one period (the last 30 days unless asked):
    ``{"from", "to", "rows": [{kind, id, label, control, reach, participants, exposed_ and
    unexposed_ orders and revenue (and unexposed_members), incremental_orders and
    incremental_revenue_cents (each with its _low and _high), cost_cents, roi}],
    "totals"}``, widest reach first. A malformed period is a ``ValidationFailed``."""
    first, last = _period(raw_from, raw_to)
    start, end = period.bounds(first, last)
    rows = _rows(merchant_user_id, start, end)
    return {"from": first.isoformat(), "to": last.isoformat(), "rows": rows, "totals": totals(rows)}


def _rows(m: int, start: datetime, end: datetime) -> list[dict]:
    listed = [(kind, ident, label) for kind, ident, label, _m in promotions.promotions_of(m)]
    mailed = _Mailed(m)

    pool = active_pool(m, start, end).cte()
    pool_sums = _strata(
        aggregate(
            select(
                pool.c.user_id,
                pool.c.at,
                literal("pool").label("kind"),
                literal(0).label("ident"),
                literal("pool").label("grp"),
            ).cte(),
            ("kind", "ident", "grp"),
            m,
            start,
            end,
            matching=True,
        )
    ).get(("pool", 0, "pool"), {})

    seen = union_all(
        select(
            Exposure.embed_kind.label("kind"),
            Exposure.embed_id.label("ident"),
            Exposure.user_id.label("user_id"),
            Exposure.first_seen_at.label("at"),
        ).where(_keys_filter(m, listed, Exposure.embed_kind, Exposure.embed_id)),
        *mailed.matched_exposures(),
    ).subquery()
    first_sight = (
        select(seen.c.kind, seen.c.ident, seen.c.user_id, func.min(seen.c.at).label("at"))
        .where(seen.c.at < end, seen.c.user_id.is_not(None), seen.c.user_id != m)
        .group_by(seen.c.kind, seen.c.ident, seen.c.user_id)
        .cte()
    )
    groups = union_all(
        select(
            first_sight.c.user_id,
            first_sight.c.at,
            first_sight.c.kind,
            first_sight.c.ident,
            literal("exposed").label("grp"),
        ),
        select(
            pool.c.user_id,
            pool.c.at,
            first_sight.c.kind,
            first_sight.c.ident,
            literal("in_pool").label("grp"),
        ).join(first_sight, first_sight.c.user_id == pool.c.user_id),
    ).cte()
    sums = _strata(aggregate(groups, ("kind", "ident", "grp"), m, start, end, matching=True))
    held_groups = mailed.holdout_groups(m, start, end)
    if held_groups is not None:
        sums.update(
            _strata(aggregate(held_groups, ("kind", "ident", "grp"), m, start, end, matching=False))
        )

    seen_keys = {(kind, ident) for kind, ident, _grp in sums}
    products = shop.products_with_ids(sorted(i for k, i in seen_keys if k == "product"))
    labels: dict[Key, tuple[str, str]] = {
        (kind, ident): (label, "matched") for kind, ident, label in listed
    }
    labels.update(
        {("product", pid): (f"Product card: {p.name}", "matched") for pid, p in products.items()}
    )
    labels.update(mailed.labels())

    discounts = {**promotions.promotion_discounts_of(m), **mailed.discounts()}
    commissions = {**attribution.offer_costs_by_embed(m), **mailed.commissions()}
    spent = members.order_costs_by(
        # flat: SQLite takes no parenthesised compound inside a compound
        union_all(
            *promotions.promotion_orders_of(m).selects,
            attribution.credited_order_keys(m),
            *mailed.order_keys(),
        )
    )
    taken_part = _participants(m, listed, mailed, start, end)
    margin_bp = int(current_app.config["EVALUATION_MARGIN_BP"])
    rows: list[dict[str, Any]] = []
    for key, (label, control) in labels.items():
        exposed = sums.get((*key, "exposed"), {})
        if control == "holdout":
            strata = {
                0: {
                    "exposed": exposed.get(0, Group()),
                    "control": sums.get((*key, "control"), {}).get(0, Group()),
                }
            }
        else:
            in_pool = sums.get((*key, "in_pool"), {})
            strata = {
                stratum: {
                    "exposed": exposed.get(stratum, Group()),
                    "control": whole.minus(in_pool.get(stratum, Group())),
                }
                for stratum, whole in pool_sums.items()
            }
            for stratum, group in exposed.items():  # exposed in a stratum the pool lacks
                strata.setdefault(stratum, {"exposed": group, "control": Group()})
        revenue, orders = lift(strata, "revenue"), lift(strata, "orders")
        shown = _totals(exposed.values())
        unshown = _totals(groups["control"] for groups in strata.values())
        fees = commissions.get(key, {})
        ledgers = spent.get(key, members.NOTHING_SPENT)
        cost = (
            discounts.get(key, 0)
            + fees.get("commission_cents", 0)
            + fees.get("cpa_cents", 0)
            + ledgers["perks_cents"]
            + ledgers["points_cents"]
        )
        margin = revenue["value"] * margin_bp / 10000
        rows.append(
            {
                "kind": key[0],
                "id": key[1],
                "label": label,
                "control": control,
                "reach": shown.n,
                "participants": taken_part.get(key, 0),
                "exposed_orders": int(shown.orders),
                "exposed_revenue_cents": int(shown.revenue),
                "unexposed_members": unshown.n,
                "unexposed_orders": int(unshown.orders),
                "unexposed_revenue_cents": int(unshown.revenue),
                "incremental_orders": round(orders["value"], 4),
                "incremental_orders_low": round(orders["low"], 4),
                "incremental_orders_high": round(orders["high"], 4),
                "incremental_revenue_cents": round(revenue["value"], 2),
                "incremental_revenue_low_cents": round(revenue["low"], 2),
                "incremental_revenue_high_cents": round(revenue["high"], 2),
                "cost_cents": cost,
                "roi": round(margin / cost, 4) if cost > 0 else None,
            }
        )
    rows.sort(key=lambda row: (-row["reach"], row["kind"], -row["id"]))
    return rows


def totals(rows: list[dict]) -> dict:
    """The rows summed: reach (member-exposures: one member may be reached by several
    promotions), incremental revenue, cost and the ROI of the sums."""
    revenue = sum(row["incremental_revenue_cents"] for row in rows)
    cost = sum(row["cost_cents"] for row in rows)
    margin = revenue * int(current_app.config["EVALUATION_MARGIN_BP"]) / 10000
    return {
        "promotions": len(rows),
        "reach": sum(row["reach"] for row in rows),
        "incremental_revenue_cents": round(revenue, 2),
        "cost_cents": cost,
        "roi": round(margin / cost, 4) if cost > 0 else None,
    }


def admin_rollup(raw_from: str | None = None, raw_to: str | None = None) -> dict:
    """Every merchant's roll-up over one period: ``{"from", "to", "merchants": [{id,
    name, totals, rows}], "totals"}``, the merchants with the most incremental revenue
    first (merchants with no promotion left out)."""
    first, last = _period(raw_from, raw_to)
    start, end = period.bounds(first, last)
    found: list[dict[str, Any]] = []
    for merchant in shop.list_merchants():
        rows = _rows(merchant.user_id, start, end)
        if rows:
            found.append(
                {
                    "id": merchant.user_id,
                    "name": merchant.name,
                    "totals": totals(rows),
                    "rows": rows,
                }
            )
    found.sort(key=lambda m: (-m["totals"]["incremental_revenue_cents"], m["name"]))
    every = [row for merchant in found for row in merchant["rows"]]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "merchants": found,
        "totals": totals(every),
    }
