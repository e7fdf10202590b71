"""A merchant's promotions side by side: each one's reach, incremental revenue, cost and
ROI over one period, in a bounded number of statements whatever the number of promotions.

The figures are ``evaluate``'s (see ``evaluation``), for the widgets (product cards,
snap-ups, group-buys, auctions, guessing games) of one merchant over one period, with the
matched control. The trick that keeps it to one pass: a control member's window starts
at their first act in the period whichever promotion is measured, so a promotion's
control in a stratum is the whole active pool's sums **minus** the sums of the pool
members it exposed (sums and sums of squares subtract). So:

- one statement: the active pool's per-stratum sums;
- one statement: per promotion and stratum, the exposed members' sums (from their first
  sight) and the sums the same members bring to the pool (from their first act);
- the costs from their owners, each keyed by promotion in one aggregate (promotions'
  discounts: one per kind; attribution's commission and CPA; the members' perks and
  points on the promotions' orders).

Coupons and campaigns are listed, each evaluated on its own page (their exposure and
holdouts differ per campaign).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import and_, func, literal, or_, select, union_all

from ...attribution import service as attribution
from ...members import service as members
from ...promotions import service as promotions
from ...shop_embed import service as shop
from ..models import Exposure
from . import period
from .evaluation import active_pool, aggregate, parse_period
from .stats import Group, lift

LISTED_ONLY = ("coupon",)


def _keys_filter(merchant_user_id: int, listed: list[tuple[str, int, str]]):
    """The merchant's widgets among the exposures: its listed promotions, its products."""
    by_kind: dict[str, list[int]] = {}
    for kind, ident, _label in listed:
        by_kind.setdefault(kind, []).append(ident)
    clauses = [
        and_(Exposure.embed_kind == kind, Exposure.embed_id.in_(ids))
        for kind, ids in by_kind.items()
    ]
    clauses.append(
        and_(
            Exposure.embed_kind == "product",
            Exposure.embed_id.in_(shop.merchant_product_ids(merchant_user_id)),
        )
    )
    return or_(*clauses)


def _strata(rows, keyed: bool) -> dict:
    found: dict = {}
    for row in rows:
        *keys, stratum, n, buyers, orders, orders_sq, revenue, revenue_sq = row
        group = Group.of(n, buyers, orders, orders_sq, revenue, revenue_sq)
        key = (keys[0], int(keys[1]), keys[2]) if keyed else keys[0]
        found.setdefault(key, {})[int(stratum)] = group
    return found


def merchant_rollup(
    merchant_user_id: int, raw_from: str | None = None, raw_to: str | None = None
) -> dict:
    """Every promotion of the merchant over one period (the last 30 days unless asked):
    ``{"from", "to", "rows": [{kind, id, label, reach, incremental_revenue_cents,
    cost_cents, roi, evaluated}]}``, rows with the widest reach first."""
    first, last = parse_period(raw_from, raw_to, None)
    start, end = period.bounds(first, last)
    listed = [
        (kind, ident, label)
        for kind, ident, label, _m in promotions.promotions_of(merchant_user_id)
    ]
    m = merchant_user_id

    pool = active_pool(m, start, end).cte()
    pool_sums = _strata(
        aggregate(
            select(pool.c.user_id, pool.c.at, literal("pool").label("grp")).cte(),
            ("grp",),
            m,
            start,
            end,
            matching=True,
        ),
        keyed=False,
    ).get("pool", {})

    first_sight = (
        select(
            Exposure.embed_kind.label("kind"),
            Exposure.embed_id.label("ident"),
            Exposure.user_id.label("user_id"),
            func.min(Exposure.first_seen_at).label("at"),
        )
        .where(
            Exposure.first_seen_at < end,
            Exposure.user_id != m,
            _keys_filter(m, listed),
        )
        .group_by(Exposure.embed_kind, Exposure.embed_id, Exposure.user_id)
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
    sums = _strata(aggregate(groups, ("kind", "ident", "grp"), m, start, end, matching=True), True)

    seen = {(kind, ident) for kind, ident, _grp in sums}
    products = shop.products_with_ids(sorted(i for k, i in seen if k == "product"))
    labels = {(kind, ident): label for kind, ident, label in listed}
    labels.update({("product", pid): f"Product card: {p.name}" for pid, p in products.items()})

    discounts = promotions.promotion_discounts_of(m)
    commissions = attribution.offer_costs_by_embed(m)
    spent = members.order_costs_by(
        # flat: SQLite takes no parenthesised compound inside a compound
        union_all(*promotions.promotion_orders_of(m).selects, attribution.credited_order_keys(m))
    )
    margin_bp = int(current_app.config["EVALUATION_MARGIN_BP"])
    rows = []
    for key, label in labels.items():
        exposed = sums.get((*key, "exposed"), {})
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
        revenue = lift(strata, "revenue")
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
                "reach": sum(group.n for group in exposed.values()),
                "incremental_revenue_cents": round(revenue["value"], 2),
                "incremental_revenue_low_cents": round(revenue["low"], 2),
                "incremental_revenue_high_cents": round(revenue["high"], 2),
                "cost_cents": cost,
                "roi": round(margin / cost, 4) if cost > 0 else None,
                "evaluated": True,
            }
        )
    rows += [
        {
            "kind": "coupon",
            "id": ident,
            "label": f"Coupon: {code}",
            "reach": None,
            "incremental_revenue_cents": None,
            "incremental_revenue_low_cents": None,
            "incremental_revenue_high_cents": None,
            "cost_cents": None,
            "roi": None,
            "evaluated": False,
        }
        for ident, code, _m in members.coupons_of(m)
    ]
    rows.sort(key=lambda row: (-(row["reach"] or 0), row["kind"], -row["id"]))
    return {"from": first.isoformat(), "to": last.isoformat(), "rows": rows}
