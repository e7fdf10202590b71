"""Group-buy facts as SQL expressions for other features that compose them into ONE
statement over members (campaigns' segments)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select

from ..models import Team, TeamMember


def in_failed_team_sql(user_id) -> ColumnElement[bool]:
    """The member (a column of the enclosing query) was in a group-buy team that failed."""
    return exists(
        select(TeamMember.id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id == user_id, Team.status == "failed")
        .correlate_except(TeamMember, Team)
    )
