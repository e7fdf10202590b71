"""Group-buy teams as they are read and announced: forming teams, rosters, the live payload."""

from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ... import realtime
from ...clock import now
from ...database import oldest_first
from ...errors import NotFound
from ...extensions import db
from ..models import GroupBuy, Team, TeamMember
from . import ladders
from .common import GROUP_BUYS

KIND = "groupbuy"
group_buy_url, group_buy_room = GROUP_BUYS.url, GROUP_BUYS.room
WIDGET_TEAMS = 5  # forming teams a widget lists, nearly full first


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
    return forming_teams_of([group_buy.id], limit)[group_buy.id]


def forming_rank() -> Any:
    """A forming team's place in its group-buy's widget list (``row_number`` as "rank"):
    the nearest to full first, then the soonest to expire, then the oldest."""
    return (
        func.row_number()
        .over(
            partition_by=Team.group_buy_id,
            order_by=((Team.size - Team.members).asc(), Team.expires_at.asc(), Team.id.asc()),
        )
        .label("rank")
    )


def listed_forming(at: Any) -> tuple[Any, ...]:
    """The conditions of a team a widget lists at ``at`` (a time or a bind parameter):
    forming, not expired, with a free place."""
    return (Team.status == "forming", Team.expires_at > at, Team.members < Team.size)


def forming_teams_of(group_buy_ids: list[int], limit: int = WIDGET_TEAMS) -> dict[int, list[Team]]:
    """``forming_teams`` of several group-buys (a page's widgets) in one query: the first
    ``limit`` of each, ranked in SQL (a window over each group-buy's open teams)."""
    rank = forming_rank()
    ranked = (
        select(Team.id, rank)
        .where(
            Team.group_buy_id.in_(group_buy_ids),
            *listed_forming(now()),
        )
        .subquery()
    )
    found: dict[int, list[Team]] = {ident: [] for ident in group_buy_ids}
    for team in db.session.scalars(
        select(Team)
        .options(joinedload(Team.leader))
        .join(ranked, ranked.c.id == Team.id)
        .where(ranked.c.rank <= limit)
        .order_by(Team.group_buy_id, ranked.c.rank)
    ):
        found[team.group_buy_id].append(team)
    return found


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
    return my_teams_of(user, [group_buy.id], limit)[group_buy.id]


def my_teams_of(
    user, group_buy_ids: list[int], limit: int = 5
) -> dict[int, list[tuple[Team, TeamMember]]]:
    """``my_teams`` in several group-buys (a page's widgets) in one query."""
    found: dict[int, list[tuple[Team, TeamMember]]] = {ident: [] for ident in group_buy_ids}
    if not user or not getattr(user, "is_authenticated", False) or not group_buy_ids:
        return found
    rank = (
        func.row_number()
        .over(partition_by=Team.group_buy_id, order_by=Team.id.desc())
        .label("rank")
    )
    ranked = (
        select(Team.id, rank)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.group_buy_id.in_(group_buy_ids), TeamMember.user_id == user.id)
        .subquery()
    )
    rows = db.session.execute(
        select(Team, TeamMember)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(ranked, ranked.c.id == Team.id)
        .where(TeamMember.user_id == user.id, ranked.c.rank <= limit)
        .order_by(Team.group_buy_id, Team.id.desc())
    ).all()
    for team, member in rows:
        found[team.group_buy_id].append((team, member))
    return found


def membership(user, team: Team) -> TeamMember | None:
    if not user or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user.id)
    )


def roster(team: Team) -> list[TeamMember]:
    return oldest_first(TeamMember.team_id, team.id, with_=TeamMember.user)


def share_url(team: Team) -> str:
    return url_for("promotions.team", team_id=team.id, _external=True)


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


# --- live --------------------------------------------------------------------------


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
