"""A campaign's report: delivery counts, attributed orders and revenue, and the lift
of the treated group over the holdout (difference of order rates, with a 95%
normal-approximation interval), plus a day-by-day series for the chart."""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, case, func, select

from ...attribution import service as attribution
from ...clock import now
from ...extensions import db
from ...members import service as members
from ...shop_embed import service as shop
from ..models import Campaign, Delivery


def counts(campaign_id: int) -> dict:
    row = db.session.execute(
        select(
            func.count(case((Delivery.status != "holdout", 1))),
            func.count(case((Delivery.status == "sent", 1))),
            func.count(case((Delivery.status == "failed", 1))),
            func.count(case((Delivery.status == "skipped", 1))),
            func.count(case((Delivery.status == "holdout", 1))),
            func.count(Delivery.opened_at),
            func.count(Delivery.clicked_at),
            func.count(Delivery.unsubscribed_at),
        ).where(Delivery.campaign_id == campaign_id)
    ).one()
    keys = (
        "recipients",
        "sent",
        "failed",
        "skipped",
        "holdout",
        "opened",
        "clicked",
        "unsubscribed",
    )
    return dict(zip(keys, (int(v or 0) for v in row), strict=True))


def attributed(campaign_id: int) -> dict:
    """Orders credited to the campaign's links by attribution (reversed ones excluded)."""
    return attribution.credited_orders("campaign", campaign_id)


def coupon_uses(campaign: Campaign) -> int | None:
    """Live uses of the campaign's coupon by its recipients (sent to) since it started;
    None when the campaign carries no coupon."""
    if not campaign.coupon_code:
        return None
    recipients = select(Delivery.user_id).where(
        Delivery.campaign_id == campaign.id, Delivery.status == "sent"
    )
    return members.redemptions_by(campaign.coupon_code, recipients, campaign.started_at)


def window_days() -> int:
    return int(current_app.config["CAMPAIGN_REPORT_DAYS"])


def lift(campaign: Campaign) -> dict | None:
    """Order rate (members with an order in the window after the start) of the treated
    (everyone planned, not holdout: intention to treat) against the holdout."""
    if campaign.started_at is None or campaign.holdout_bp == 0:
        return None
    end = campaign.started_at + timedelta(days=window_days())
    bought = shop.buyers_between(campaign.started_at, end).subquery()
    group = case((Delivery.status == "holdout", "control"), else_="treated")
    rows = db.session.execute(
        select(
            group,
            func.count(),
            func.count(bought.c.buyer_id),
            func.coalesce(func.sum(bought.c.revenue), 0),
        )
        .select_from(Delivery)
        .outerjoin(bought, bought.c.buyer_id == Delivery.user_id)
        .where(Delivery.campaign_id == campaign.id)
        .group_by(group)
    ).all()
    groups = {name: (int(n), int(buyers), int(revenue)) for name, n, buyers, revenue in rows}
    n1, b1, r1 = groups.get("treated", (0, 0, 0))
    n0, b0, r0 = groups.get("control", (0, 0, 0))
    if not n1 or not n0:
        return None
    p1, p0 = b1 / n1, b0 / n0
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    return {
        "treated": n1,
        "control": n0,
        "treated_buyers": b1,
        "control_buyers": b0,
        "treated_rate": p1,
        "control_rate": p0,
        "lift": diff,
        "interval": [diff - 1.96 * se, diff + 1.96 * se],
        "incremental_buyers": diff * n1,
        "incremental_revenue_cents": round((r1 / n1 - r0 / n0) * n1),
        "window_days": window_days(),
        "open": now() < end,
    }


def series(campaign_id: int) -> list[dict]:
    """Per day: sent, clicked, attributed orders (for the chart)."""
    days: dict[str, dict] = {}

    def add(rows, key):
        for day, value in rows:
            if day is not None:
                days.setdefault(str(day)[:10], {"sent": 0, "clicked": 0, "orders": 0})[key] = int(
                    value
                )

    for column, key in ((Delivery.sent_at, "sent"), (Delivery.clicked_at, "clicked")):
        day = func.date(column)
        add(
            db.session.execute(
                select(day, func.count())
                .where(Delivery.campaign_id == campaign_id, column.is_not(None))
                .group_by(day)
            ).all(),
            key,
        )
    add(attribution.credited_orders_by_day("campaign", campaign_id), "orders")
    return [{"day": key, **value} for key, value in sorted(days.items())]


def report(campaign: Campaign) -> dict:
    data = {
        "id": campaign.id,
        "name": campaign.name,
        "channel": campaign.channel,
        "segment_id": campaign.segment_id,
        "status": campaign.status,
        "holdout_bp": campaign.holdout_bp,
        **counts(campaign.id),
        **attributed(campaign.id),
        "coupon_uses": coupon_uses(campaign),
    }
    data["lift"] = lift(campaign)
    return data


def audience_facts(campaign_id: int) -> dict | None:
    """What insight's evaluation needs of one campaign: its creator, name, start and
    coupon code, and ``SELECT user_id, at, holdout`` of everyone planned (``holdout``
    true for the random control; ``at`` the sending or the start), None if unknown."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    return {
        "owner_id": campaign.created_by_id,
        "label": f"Campaign: {campaign.name}",
        "starts_at": campaign.started_at,
        "coupon_code": campaign.coupon_code,
        "holdout_bp": campaign.holdout_bp,
        "audience": audience_sql([campaign.id]),
    }


def audience_sql(campaign_ids) -> Select:
    """``SELECT user_id, at, holdout, campaign_id`` of the members planned for the
    campaigns."""
    started = select(Campaign.started_at).where(Campaign.id == Delivery.campaign_id)
    return select(
        Delivery.user_id.label("user_id"),
        func.coalesce(Delivery.sent_at, started.scalar_subquery()).label("at"),
        (Delivery.status == "holdout").label("holdout"),
        Delivery.campaign_id.label("campaign_id"),
    ).where(Delivery.campaign_id.in_(campaign_ids), Delivery.status.in_(("sent", "holdout")))


def campaigns_with_code(code: str) -> list[int]:
    """Ids of the started campaigns that carry the coupon ``code``."""
    return list(
        db.session.scalars(
            select(Campaign.id).where(
                Campaign.coupon_code == code, Campaign.started_at.is_not(None)
            )
        )
    )


def campaigns_of(owner_id: int, limit: int = 200) -> list[dict]:
    """``audience_facts`` (without the audience) of the campaigns ``owner_id`` created,
    newest first, in one statement: ``id, label, starts_at, coupon_code, holdout_bp``."""
    rows = db.session.execute(
        select(
            Campaign.id,
            Campaign.name,
            Campaign.started_at,
            Campaign.coupon_code,
            Campaign.holdout_bp,
        )
        .where(Campaign.created_by_id == owner_id)
        .order_by(Campaign.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": ident,
            "label": f"Campaign: {name}",
            "starts_at": started_at,
            "coupon_code": code,
            "holdout_bp": holdout_bp,
        }
        for ident, name, started_at, code, holdout_bp in rows
    ]


def carriers_of(codes) -> dict[str, list[int]]:
    """``campaigns_with_code`` for several codes at once: ``code -> [campaign ids]``."""
    found: dict[str, list[int]] = {}
    wanted = sorted(set(codes))
    if not wanted:
        return found
    for ident, code in db.session.execute(
        select(Campaign.id, Campaign.coupon_code)
        .where(Campaign.coupon_code.in_(wanted), Campaign.started_at.is_not(None))
        .order_by(Campaign.id)
    ):
        found.setdefault(code, []).append(ident)
    return found
