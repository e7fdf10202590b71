"""Starting and joining group-buy teams: the slot is one conditional UPDATE, the membership
unique per (team, user); the order is placed (held) before the team row changes.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from ...clock import now
from ...database import insert_ignore
from ...errors import Conflict
from ...extensions import db
from ...shop_embed import service as shop
from ...trust import service as trust
from ..models import GroupBuy, Team, TeamMember
from . import ladders
from .common import (
    AUTO_COMPLETE_GRACE,
    _tell_joined,
    check_can_act,
    check_idempotency_key,
    key_reused,
    order_by_key,
)
from .settlement import _succeed
from .teams import KIND, _announce_team, membership

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
    key, replayed = _admit(user, idempotency_key, group_buy_id=group_buy.id, leader=user)
    if replayed is not None:
        return replayed, True
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


def _admit(user, idempotency_key, **expected) -> tuple[str | None, Team | None]:
    """What starting and joining check first: the member may act and buy, the key is
    well formed; returns (key, the team a replayed key already made, else None). A key
    first used for another team (``expected`` as ``_replayed_team`` takes) is refused."""
    check_can_act(user)
    trust.check_commerce(user, "team")
    key = check_idempotency_key(idempotency_key)
    first = order_by_key(user, key) if key is not None else None
    return key, (None if first is None else _replayed_team(first, **expected))


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
    key, replayed = _admit(user, idempotency_key, group_buy_id=team.group_buy_id, team_id=team.id)
    if replayed is not None:
        return replayed, True
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
