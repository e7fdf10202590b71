"""Settling group-buy teams: a full team succeeds (its held orders become payable), a team
out of time fails (its holds are voided); the periodic sweep settles the due ones.

Lock order as in ``groupbuys``: the team row, then the members' orders in ascending id.
"""

from datetime import datetime

from flask import url_for
from sqlalchemy import select, update

from ...clock import now
from ...database import first_ids
from ...extensions import db
from ...notifications import service as notifications
from ...shop_embed import service as shop
from ..models import Team, TeamMember
from . import ladders
from .common import _tell_settled, one_by_one
from .teams import _announce_team

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


def settle_due_teams(limit: int = 200) -> int:
    """Settle every forming team past its deadline, each in its own transaction. Idempotent.

    Nothing depends on it having run: reads already show an expired team as
    failed (or succeeded when auto-completing); this confirms or voids the orders
    and tells the members, even if nobody visits.
    """
    due = first_ids(Team.id, Team.status == "forming", Team.expires_at <= now(), limit=limit)
    return one_by_one(due, _settle_id)


def _settle_id(team_id: int) -> bool:
    team = db.session.get(Team, team_id)
    return team is not None and settle_team(team)
