"""The VIP programme report: members per tier, tier moves per week, repeat-purchase rate per
tier, and what the perks cost against what VIPs buy (read-only)."""

from datetime import timedelta

from sqlalchemy import func, select

from ...clock import now
from ...extensions import db
from ...shop_embed import service as shop
from ..models import TIERS, PerkGrant, TierChange
from .rules import check_admin
from .tiers import RANK

WEEKS = 12


def vip_report(actor, *, weeks: int = WEEKS, days: int = 365) -> dict:
    """Figures for the admin page and the API. Raises Forbidden for anyone but an admin.

    Perk cost and VIP revenue cover the last ``days``: revenue is the merchandise
    (after discounts and refunds) of completed orders of members who are VIP now;
    cost is every perk row (free freight, rebates, less reversals), split by funder.
    """
    from ...accounts.models import User

    check_admin(actor)
    at = now()
    per_tier = dict.fromkeys(TIERS, 0)
    for tier, count in db.session.execute(
        select(User.tier, func.count()).group_by(User.tier)
    ).all():
        per_tier[tier if tier in per_tier else "registered"] += count
    start = (at - timedelta(weeks=weeks - 1)).date()
    start = start - timedelta(days=start.weekday())
    moves = {(start + timedelta(weeks=n)).isoformat(): {"up": 0, "down": 0} for n in range(weeks)}
    for row in db.session.execute(
        select(TierChange.from_tier, TierChange.to_tier, TierChange.created_at).where(
            TierChange.created_at
            >= at.replace(
                year=start.year,
                month=start.month,
                day=start.day,
                hour=0,
                minute=0,
                second=0,
                microsecond=0,
            )
        )
    ).all():
        day = row.created_at.date()
        week = (day - timedelta(days=day.weekday())).isoformat()
        if week in moves:
            up = RANK.get(row.to_tier, 0) > RANK.get(row.from_tier, 0)
            moves[week]["up" if up else "down"] += 1
    completed = shop.completed_order_counts()
    repeat = {}
    for tier in TIERS:
        ids = list(db.session.scalars(select(User.id).where(User.tier == tier)))
        buyers = [completed.get(i, 0) for i in ids]
        with_orders = sum(1 for n in buyers if n >= 1)
        repeaters = sum(1 for n in buyers if n >= 2)
        repeat[tier] = {
            "members": len(ids),
            "buyers": with_orders,
            "repeat_buyers": repeaters,
            "repeat_rate": round(repeaters / with_orders, 3) if with_orders else 0.0,
        }
    since = at - timedelta(days=days)
    vip_ids = select(User.id).where(User.tier == "vip")
    revenue = shop.completed_spend(vip_ids, since)
    cost = {"free_shipping": 0, "rebate": 0}
    by_funder = {"site": 0, "merchant": 0}
    for perk, funder, amount in db.session.execute(
        select(PerkGrant.perk, PerkGrant.funded_by, func.sum(PerkGrant.amount_cents))
        .where(PerkGrant.created_at >= since)
        .group_by(PerkGrant.perk, PerkGrant.funded_by)
    ).all():
        cost[perk] = cost.get(perk, 0) + int(amount or 0)
        by_funder[funder] = by_funder.get(funder, 0) + int(amount or 0)
    total_cost = sum(cost.values())
    return {
        "members_per_tier": per_tier,
        "tier_moves_per_week": [{"week": w, **v} for w, v in moves.items()],
        "repeat_purchase": repeat,
        "vip_revenue_cents": revenue,
        "perk_cost_cents": cost,
        "perk_cost_by_funder_cents": by_funder,
        "perk_cost_total_cents": total_cost,
        "perk_cost_share": round(total_cost / revenue, 4) if revenue else 0.0,
        "days": days,
    }
