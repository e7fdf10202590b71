"""Group-buys: campaigns, teams, joining, and settling teams when they fill or run out of time.

Concurrency (see models.py): a team slot is ONE conditional UPDATE and a
membership is unique per (team, user). Locks are taken in one order so
PostgreSQL never deadlocks: the membership's unique key, then the team row, then
the product row (the shop's ``place_order``), then the members' orders in
ascending id (``release_held`` / ``void_held``). Starting a team places its
order first (order, product) and only then inserts the new team row.

This module holds the campaigns; ``teams`` (reading, live), ``joining`` and
``settlement`` the rest, re-exported here.
"""

from sqlalchemy import case, func, select, update

from ...clock import now
from ...extensions import db
from ..models import GroupBuy, Team
from . import ladders
from .common import (
    MAX_CAMPAIGN,
    MAX_TEAM_SIZE,
    MAX_TEAM_WINDOW,
    MIN_TEAM_SIZE,
    MIN_TEAM_WINDOW,
    add_promotion,
    check_audience,
    check_fields,
    end_promotion,
    own_product,
    promo_price,
    promotions_on_offer,
    read_time,
    whole,
)
from .joining import (  # noqa: F401
    _claim_membership,
    _hold_until,
    _member_of_order,
    _place,
    _refusal,
    _replayed_team,
    _take_slot,
    join_team,
    start_team,
)
from .settlement import (  # noqa: F401
    _fail,
    _member_orders,
    _succeed,
    settle_due_teams,
    settle_team,
    team_member_ids,
)
from .teams import (  # noqa: F401
    GROUP_BUYS,
    KIND,
    WIDGET_TEAMS,
    _announce_group_buy,
    _announce_team,
    forming_teams,
    get_team,
    group_buy_room,
    group_buy_url,
    membership,
    my_teams,
    roster,
    share_url,
    team_payload,
    team_room,
    teams_of_campaign,
)

get_group_buy, group_buys_of = GROUP_BUYS.get, GROUP_BUYS.of

# --- campaigns ---------------------------------------------------------------------


def create_group_buy(
    actor,
    *,
    product_id,
    group_price_cents,
    team_size,
    team_window_minutes,
    ends_at,
    auto_complete=False,
    audience="all",
    steps=None,
) -> GroupBuy:
    """A new group-buy of one of ``actor``'s products. Raises Forbidden or ValidationFailed.

    With ``steps`` it is a ladder (service/ladders.py): ``team_size`` and
    ``group_price_cents`` then default to the largest step and the first step's price.
    """
    errors: dict[str, list[str]] = {}
    merchant, product = own_product(actor, product_id, errors)
    if steps is not None:
        steps, team_size, group_price_cents = ladders.ladder_terms(
            steps, team_size, group_price_cents, product, errors
        )
    price = promo_price(group_price_cents, "group_price_cents", product, errors)
    size = whole(
        team_size,
        "team_size",
        MIN_TEAM_SIZE,
        MAX_TEAM_SIZE,
        f"Teams have {MIN_TEAM_SIZE} to {MAX_TEAM_SIZE} members.",
        errors,
    )
    window = whole(
        team_window_minutes,
        "team_window_minutes",
        MIN_TEAM_WINDOW,
        MAX_TEAM_WINDOW,
        f"Give teams {MIN_TEAM_WINDOW} minutes to 7 days ({MAX_TEAM_WINDOW} minutes) to fill.",
        errors,
    )
    at = now()
    end = read_time("ends_at", ends_at, errors)
    if end is not None and not at < end <= at + MAX_CAMPAIGN:
        errors.setdefault("ends_at", []).append("End the campaign in the next 90 days.")
    if not isinstance(auto_complete, bool):
        errors.setdefault("auto_complete", []).append("Use true or false.")
    check_audience(audience, errors)
    check_fields(errors)
    return add_promotion(
        GroupBuy,
        merchant,
        product,
        at,
        group_price_cents=price,
        team_size=size,
        team_window_minutes=window,
        auto_complete=auto_complete,
        ends_at=end,
        audience=audience,
        steps=steps,
    )


def open_group_buys(limit: int = 12) -> list[GroupBuy]:
    """Campaigns still taking teams, ending soonest first."""
    return promotions_on_offer(GroupBuy, GroupBuy.ends_at, limit)


def end_group_buy(actor, group_buy: GroupBuy) -> GroupBuy:
    """End a campaign now (its shop or an admin): no new teams; forming teams fail (or
    auto-complete) at once. Ending twice changes nothing.

    Locks every forming team of the campaign (ascending id) before any product or
    order, then settles them one by one: the module's lock order.
    """
    at = now()
    if not end_promotion(actor, GroupBuy, group_buy, at):
        return group_buy
    team_ids = select(Team.id).where(Team.group_buy_id == group_buy.id, Team.status == "forming")
    if db.session.get_bind().dialect.name != "sqlite":
        team_ids = team_ids.order_by(Team.id).with_for_update()
    ids = db.session.scalars(team_ids).all()
    if ids:
        db.session.execute(
            update(Team)
            .where(Team.id.in_(ids), Team.expires_at > at)
            .values(expires_at=at)
            .execution_options(synchronize_session=False)
        )
    for team_id in sorted(ids):
        team = db.session.get(Team, team_id)
        db.session.refresh(team)
        settle_team(team)
    _announce_group_buy(group_buy)
    return group_buy


def campaign_counts(group_buy_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per campaign: forming / succeeded / failed teams and members, as they read now (one query)."""
    at = now()
    if not group_buy_ids:
        return {}
    expired = (Team.status == "forming") & (Team.expires_at <= at)
    auto = GroupBuy.auto_complete.is_(True)
    effective = case(
        (expired & auto, "succeeded"),
        (expired, "failed"),
        else_=Team.status,
    )
    rows = db.session.execute(
        select(
            Team.group_buy_id,
            effective.label("status"),
            func.count(Team.id),
            func.coalesce(func.sum(Team.members), 0),
        )
        .join(GroupBuy, GroupBuy.id == Team.group_buy_id)
        .where(Team.group_buy_id.in_(group_buy_ids))
        .group_by(Team.group_buy_id, effective)
    ).all()
    counts = {
        gid: {"forming": 0, "succeeded": 0, "failed": 0, "members": 0} for gid in group_buy_ids
    }
    for gid, status, teams, members in rows:
        counts[gid][status] += teams
        counts[gid]["members"] += int(members)
    return counts
