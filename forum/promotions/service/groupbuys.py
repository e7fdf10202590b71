"""Group-buys: campaigns, teams, joining, and settling teams when they fill or run out of time.

Concurrency (see models.py): a team slot is ONE conditional UPDATE and a
membership is unique per (team, user). Locks are taken in one order so
PostgreSQL never deadlocks: the membership's unique key, then the team row, then
the product row (the shop's ``place_order``), then the members' orders in
ascending id (``release_held`` / ``void_held``). Starting a team places its
order first (order, product) and only then inserts the new team row.
"""

from datetime import datetime, timedelta

from flask import url_for
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload

from ... import realtime
from ...clock import now
from ...database import insert_ignore
from ...errors import Conflict, NotFound, ServiceError
from ...extensions import db
from ...notifications import service as notifications
from ...shop_embed import service as shop
from ..models import GroupBuy, Team, TeamMember
from . import ladders
from .common import (
    AUTO_COMPLETE_GRACE,
    MAX_CAMPAIGN,
    MAX_TEAM_SIZE,
    MAX_TEAM_WINDOW,
    MIN_TEAM_SIZE,
    MIN_TEAM_WINDOW,
    _tell_joined,
    _tell_settled,
    add_promotion,
    check_audience,
    check_can_act,
    check_fields,
    check_idempotency_key,
    check_offer_owner,
    get_promotion,
    key_reused,
    order_by_key,
    own_product,
    promo_price,
    promotions_of,
    promotions_on_offer,
    read_time,
    whole,
)

KIND = "groupbuy"
WIDGET_TEAMS = 5  # forming teams a widget lists, nearly full first


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


def get_group_buy(group_buy_id) -> GroupBuy:
    return get_promotion(GroupBuy, group_buy_id, "No such group-buy.")


def group_buys_of(merchant_id: int) -> list[GroupBuy]:
    return promotions_of(GroupBuy, merchant_id)


def open_group_buys(limit: int = 12) -> list[GroupBuy]:
    """Campaigns still taking teams, ending soonest first."""
    return promotions_on_offer(GroupBuy, GroupBuy.ends_at, limit)


def end_group_buy(actor, group_buy: GroupBuy) -> GroupBuy:
    """End a campaign now (its shop or an admin): no new teams; forming teams fail (or
    auto-complete) at once. Ending twice changes nothing.

    Locks every forming team of the campaign (ascending id) before any product or
    order, then settles them one by one: the module's lock order.
    """
    check_offer_owner(actor, group_buy.merchant_id)
    at = now()
    moved = db.session.execute(
        update(GroupBuy)
        .where(GroupBuy.id == group_buy.id, GroupBuy.ended_at.is_(None))
        .values(ended_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(group_buy)
    if not moved:
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


# --- teams: reading ----------------------------------------------------------------


def get_team(team_id) -> Team:
    team = (
        db.session.get(Team, team_id, options=[joinedload(Team.group_buy)])
        if isinstance(team_id, int)
        else None
    )
    if team is None:
        raise NotFound("No such team.")
    return team


def forming_teams(group_buy: GroupBuy, limit: int = WIDGET_TEAMS) -> list[Team]:
    """Teams still open to join, nearly full first, then the soonest to expire."""
    return list(
        db.session.scalars(
            select(Team)
            .options(joinedload(Team.leader))
            .where(
                Team.group_buy_id == group_buy.id,
                Team.status == "forming",
                Team.expires_at > now(),
                Team.members < Team.size,
            )
            .order_by((Team.size - Team.members).asc(), Team.expires_at.asc(), Team.id.asc())
            .limit(limit)
        )
    )


def teams_of_campaign(group_buy: GroupBuy, limit: int = 200) -> list[Team]:
    return list(
        db.session.scalars(
            select(Team)
            .options(joinedload(Team.leader))
            .where(Team.group_buy_id == group_buy.id)
            .order_by(Team.id.desc())
            .limit(limit)
        )
    )


def my_teams(user, group_buy: GroupBuy, limit: int = 5) -> list[tuple[Team, TeamMember]]:
    """``user``'s latest teams in this campaign with their membership (for their widget)."""
    if not user or not getattr(user, "is_authenticated", False):
        return []
    rows = db.session.execute(
        select(Team, TeamMember)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.group_buy_id == group_buy.id, TeamMember.user_id == user.id)
        .order_by(Team.id.desc())
        .limit(limit)
    ).all()
    return [(team, member) for team, member in rows]


def membership(user, team: Team) -> TeamMember | None:
    if not user or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
    )


def roster(team: Team) -> list[TeamMember]:
    return list(
        db.session.scalars(
            select(TeamMember)
            .options(joinedload(TeamMember.user))
            .where(TeamMember.team_id == team.id)
            .order_by(TeamMember.id)
        )
    )


def share_url(team: Team) -> str:
    return url_for("promotions.team", team_id=team.id, _external=True)


def group_buy_url(group_buy: GroupBuy) -> str:
    return url_for("promotions.group_buy", group_buy_id=group_buy.id)


def team_payload(team: Team, at: datetime | None = None) -> dict:
    """What a team is now (live pushes and the API): status as it reads, job or not."""
    at = at or now()
    status = team.status_at(at)
    filled = team.size if status == "succeeded" else team.members + team.virtual_members
    return {
        "kind": "team",
        "id": team.id,
        "team_id": team.id,
        "group_buy_id": team.group_buy_id,
        "status": status,
        "members": filled,
        "real_members": team.members,
        "size": team.size,
        "seats_left": team.size - filled if status == "forming" else 0,
        "expires_at": team.expires_at.isoformat(),
        "price_cents": ladders.team_price(team),
    }


# --- teams: starting and joining ---------------------------------------------------


def _hold_until(group_buy: GroupBuy, team_expires_at: datetime) -> datetime:
    return team_expires_at + (AUTO_COMPLETE_GRACE if group_buy.auto_complete else timedelta(0))


def _place(
    user, group_buy: GroupBuy, expires_at: datetime, key, address, members: int = 1
) -> tuple:
    """The member's held order at the group price (a ladder's: the step ``members`` reach;
    stock taken now); insufficient stock -> sold_out."""
    try:
        return shop.place_order(
            user,
            [(group_buy.product_id, 1)],
            shipping_address=address,
            idempotency_key=key,
            kind=KIND,
            unit_prices={group_buy.product_id: ladders.price_for(group_buy, members)},
            held_until=_hold_until(group_buy, expires_at),
            choices={"audience": group_buy.audience},
        )
    except Conflict as err:
        if err.code == "insufficient_stock":
            raise Conflict(
                "This product is sold out.", code="sold_out", fields={"team": ["Sold out."]}
            ) from None
        raise


def _member_of_order(order_id: int) -> TeamMember | None:
    return db.session.scalar(select(TeamMember).where(TeamMember.order_id == order_id))


def start_team(
    user, group_buy: GroupBuy, *, idempotency_key=None, shipping_address=None
) -> tuple[Team, bool]:
    """``user`` starts a team and is its first member; their order is placed held.

    Returns (team, replayed). Raises Forbidden (suspended), Conflict
    (campaign_ended, team_already_started, sold_out, too_many_pending_orders), ValidationFailed (bad
    key or address). The order is placed first (it claims the Idempotency-Key),
    then the team row is inserted: a replay finds the first team and writes nothing.
    """
    check_can_act(user)
    key = check_idempotency_key(idempotency_key)
    if key is not None:
        first = order_by_key(user, key)
        if first is not None:
            return _replayed_team(first, group_buy_id=group_buy.id, leader=user), True
    at = now()
    if not group_buy.is_open(at):
        raise Conflict("This group-buy has ended.", code="campaign_ended")
    # A soft limit against hoarding stock with empty teams (counted, not locked, like the
    # shop's cap on unpaid orders): one forming team per leader and campaign.
    leading = db.session.scalar(
        select(func.count())
        .select_from(Team)
        .where(
            Team.group_buy_id == group_buy.id,
            Team.leader_id == user.id,
            Team.status == "forming",
            Team.expires_at > at,
        )
    )
    if leading:
        raise Conflict(
            "You already have a team forming in this group-buy: share it instead.",
            code="team_already_started",
        )
    expires_at = min(at + timedelta(minutes=group_buy.team_window_minutes), group_buy.ends_at)
    order, replayed = _place(user, group_buy, expires_at, key, shipping_address)
    if replayed:
        return _replayed_team(order, group_buy_id=group_buy.id, leader=user), True
    team = Team(
        group_buy_id=group_buy.id,
        leader_id=user.id,
        size=group_buy.team_size,
        members=1,
        status="forming",
        expires_at=expires_at,
        created_at=at,
    )
    db.session.add(team)
    db.session.flush()
    member = TeamMember(team_id=team.id, user_id=user.id, order_id=order.id, joined_at=at)
    db.session.add(member)
    db.session.flush()
    _tell_joined(team, member, order)
    _announce_team(team)
    return team, False


def _replayed_team(order, *, group_buy_id: int, leader=None, team_id=None) -> Team:
    member = _member_of_order(order.id)
    team = db.session.get(Team, member.team_id) if member else None
    if (
        team is None
        or team.group_buy_id != group_buy_id
        or (team_id is not None and team.id != team_id)
        or (leader is not None and team.leader_id != leader.id)
    ):
        raise key_reused()
    return team


def _claim_membership(team: Team, user, at: datetime) -> int | None:
    """Insert (team, user) unless it exists: the unique key makes a concurrent twin wait, then skip."""
    return db.session.execute(
        insert_ignore(TeamMember, dict(team_id=team.id, user_id=user.id, joined_at=at)).returning(
            TeamMember.id
        )
    ).scalar()


def _take_slot(team: Team, at: datetime) -> int | None:
    """THE guard: one conditional UPDATE; the new member count, or None when refused."""
    return db.session.execute(
        update(Team)
        .where(
            Team.id == team.id,
            Team.status == "forming",
            Team.members < Team.size,
            Team.expires_at > at,
        )
        .values(members=Team.members + 1)
        .returning(Team.members)
        .execution_options(synchronize_session=False)
    ).scalar()


def _refusal(team: Team, at: datetime) -> Conflict:
    db.session.refresh(team)
    if team.status_at(at) != "forming" or not team.group_buy.is_open(at):
        return Conflict(
            "This team is closed: it is complete, failed or out of time.", code="team_closed"
        )
    if team.members >= team.size:
        return Conflict("This team is full.", code="team_full")
    return Conflict("This team is closed.", code="team_closed")  # pragma: no cover


def join_team(
    user, team: Team, *, idempotency_key=None, shipping_address=None
) -> tuple[Team, bool]:
    """``user`` joins ``team``; the join that fills it confirms every member's order at once.

    Returns (team, replayed). Raises Conflict ``already_member``, ``team_full``,
    ``team_closed`` (succeeded, failed, expired, or campaign ended), ``sold_out``;
    Forbidden (suspended); ValidationFailed (bad or reused Idempotency-Key). On a
    refusal nothing is written (the caller rolls back).
    """
    check_can_act(user)
    key = check_idempotency_key(idempotency_key)
    if key is not None:
        first = order_by_key(user, key)
        if first is not None:
            return _replayed_team(first, group_buy_id=team.group_buy_id, team_id=team.id), True
    at = now()
    group_buy = team.group_buy
    # Cheap refusals first (reads); the statements below decide under concurrency.
    if membership(user, team) is not None:
        raise Conflict("You are already in this team.", code="already_member")
    if team.status_at(at) != "forming" or not group_buy.is_open(at):
        raise _refusal(team, at)
    if team.members >= team.size:
        raise Conflict("This team is full.", code="team_full")

    member_id = _claim_membership(team, user, at)
    if member_id is None:  # a concurrent request of the same user got here first
        existing = membership(user, team)
        order = shop.find_order(existing.order_id) if existing and existing.order_id else None
        if key is not None and order is not None and order.idempotency_key == key:
            return team, True
        raise Conflict("You are already in this team.", code="already_member")
    filled = _take_slot(team, at)
    if filled is None:
        raise _refusal(team, at)
    order, replayed = _place(user, group_buy, team.expires_at, key, shipping_address, filled)
    if replayed:  # the key belongs to another request with the same body
        raise key_reused()
    member = db.session.get(TeamMember, member_id)
    member.order_id = order.id
    db.session.flush()
    db.session.refresh(team)
    _tell_joined(team, member, order)
    if filled >= team.size:
        _succeed(team, at, joiner=user)
    _announce_team(team)
    return team, False


# --- settling ----------------------------------------------------------------------


def _member_orders(team: Team) -> list:
    """The team's orders, in ascending id (the lock order)."""
    return shop.orders_with_ids(
        select(TeamMember.order_id).where(
            TeamMember.team_id == team.id, TeamMember.order_id.is_not(None)
        )
    )


def team_member_ids(team: Team) -> list[int]:
    """Who joined ``team`` (user ids), for features that settle per member (attribution)."""
    return list(db.session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))


def _succeed(team: Team, at: datetime, *, joiner=None, virtual: int = 0) -> None:
    """Flip a full (or auto-completed) team to succeeded and confirm every held order.

    The caller holds the team row (its conditional UPDATE). Orders are confirmed
    in ascending id: prepaid ones become paid, the others pending with a fresh
    payment window.
    """
    values = {"status": "succeeded", "settled_at": at}
    if virtual:
        values["virtual_members"] = virtual
    db.session.execute(
        update(Team)
        .where(Team.id == team.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(team)
    group_buy = team.group_buy
    ladders.settle_prices(team)  # a ladder: everyone pays the step reached (orders first)
    shop.lock_products([group_buy.product_id])
    for order in _member_orders(team):
        if order.status != "held":
            continue
        if shop.holds_intact(order):
            shop.release_held(order, team_id=team.id)
            text = (
                f"Your group-buy team for {group_buy.product.name} is complete and your order "
                "is confirmed."
                if order.status == "paid"
                else f"Your group-buy team for {group_buy.product.name} is complete: pay your "
                "order to get the group price."
            )
        else:  # its stock went back to the shelf after the deadline (auto-complete only)
            shop.void_held(order, reason="hold_ended")
            text = f"Your group-buy order for {group_buy.product.name} could not be confirmed."
        notifications.notify(
            order.buyer_id,
            "team_succeeded",
            text,
            url_for("shop_embed.order", order_id=order.id),
            actor_id=getattr(joiner, "id", None),
            team_id=team.id,
        )
    _tell_settled(team, "succeeded")


def _fail(team: Team, at: datetime) -> None:
    db.session.execute(
        update(Team)
        .where(Team.id == team.id)
        .values(status="failed", settled_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(team)
    product = team.group_buy.product
    for order in _member_orders(team):
        if order.status != "held":
            continue
        shop.void_held(order, reason="team_failed")
        refunded = order.status == "refunded"
        notifications.notify(
            order.buyer_id,
            "team_failed",
            f"Your group-buy team for {product.name} did not fill in time; your order was "
            + ("refunded." if refunded else "cancelled."),
            url_for("shop_embed.order", order_id=order.id),
            team_id=team.id,
        )
    _tell_settled(team, "failed")


def settle_team(team: Team) -> bool:
    """Settle a forming team whose time is up: auto-complete it with virtual members when
    its campaign allows (and it has a member), else fail it and void its orders.

    Returns True when this call settled it; False when it is not due or someone
    else settled it (the conditional UPDATE decides). Idempotent.
    """
    at = now()
    if team.status != "forming" or team.expires_at > at:
        return False
    claimed = db.session.execute(
        update(Team)
        .where(Team.id == team.id, Team.status == "forming", Team.expires_at <= at)
        .values(settled_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.refresh(team)
        return False
    db.session.refresh(team)
    if team.group_buy.auto_complete and team.members >= 1:
        _succeed(team, at, virtual=team.size - team.members)
    elif team.group_buy.first_step is not None and team.members >= team.group_buy.first_step:
        _succeed(team, at)  # a ladder team that reached a step
    else:
        _fail(team, at)
    _announce_team(team)
    return True


def read_team(team: Team) -> Team:
    """The team for a reader: settled first if its time is up (the job would do it anyway)."""
    settle_team(team)
    return team


def settle_due_teams(limit: int = 200) -> int:
    """Settle every forming team past its deadline, each in its own transaction. Idempotent.

    Nothing depends on it having run: reads already show an expired team as
    failed (or succeeded when auto-completing); this confirms or voids the orders
    and tells the members, even if nobody visits.
    """
    due = db.session.scalars(
        select(Team.id)
        .where(Team.status == "forming", Team.expires_at <= now())
        .order_by(Team.id)
        .limit(limit)
    ).all()
    db.session.commit()
    settled = 0
    for team_id in due:
        try:
            team = db.session.get(Team, team_id)
            if team is not None and settle_team(team):
                settled += 1
            db.session.commit()
        except ServiceError:
            db.session.rollback()
    return settled


# --- live --------------------------------------------------------------------------


def group_buy_room(group_buy_id: int) -> str:
    return f"offer:groupbuy:{group_buy_id}"


def team_room(team_id: int) -> str:
    return f"offer:team:{team_id}"


def _announce_team(team: Team) -> None:
    payload = team_payload(team)
    realtime.announce("team_state", payload, room=team_room(team.id))
    realtime.announce(
        "groupbuy_state",
        {"kind": "groupbuy", "id": team.group_buy_id, "team": payload},
        room=group_buy_room(team.group_buy_id),
    )


def _announce_group_buy(group_buy: GroupBuy) -> None:
    realtime.announce(
        "groupbuy_state",
        {"kind": "groupbuy", "id": group_buy.id, "ended": True},
        room=group_buy_room(group_buy.id),
    )
