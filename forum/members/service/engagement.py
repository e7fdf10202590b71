"""When members reached each tier, as a SELECT for insight's member funnel, so nobody
outside members names its tables."""

from __future__ import annotations

from sqlalchemy import Select, select, union_all

from ..models import Membership, TierChange


def tiers_reached_sql() -> Select:
    """``SELECT user_id, tier, at``: every move into a tier (the tier-change history) and
    each member's current tier since when (a tier set without a history row still
    counts), registered excluded; aggregate ``min(at)`` per member for "first reached"."""
    moves = select(
        TierChange.user_id.label("user_id"),
        TierChange.to_tier.label("tier"),
        TierChange.created_at.label("at"),
    ).where(TierChange.to_tier != "registered")
    current = select(
        Membership.user_id.label("user_id"),
        Membership.tier.label("tier"),
        Membership.tier_since.label("at"),
    ).where(Membership.tier != "registered")
    both = union_all(moves, current).subquery()
    return select(both.c.user_id, both.c.tier, both.c.at)
