"""Trust's request shapes (API and the admin form share them) and dumps."""

from pydantic import Field

from ..schemas import Body, attrs, iso

_Threshold = int | None  # (service.update_rules checks the range; None lifts a ceiling)


class LevelRulesBody(Body):
    """Some requirements of one level; a metric left out keeps its value."""

    account_age_days: _Threshold = None
    topics_entered: _Threshold = None
    posts_read: _Threshold = None
    minutes_reading: _Threshold = None
    days_visited: _Threshold = None
    recent_days_visited: _Threshold = None
    likes_given: _Threshold = None
    likes_received: _Threshold = None
    replies: _Threshold = None
    max_recent_flags: _Threshold = None


class TrustRulesBody(Body):
    tl1: LevelRulesBody | None = None
    tl2: LevelRulesBody | None = None
    tl3: LevelRulesBody | None = None


class GrantBody(Body):
    level: int
    reason: str = Field(max_length=300)


def rules_changes(data: TrustRulesBody) -> dict[int, dict[str, int | None]]:
    """The levels and metrics a body actually names (an explicit null lifts a ceiling)."""
    changes: dict[int, dict[str, int | None]] = {}
    for level in (1, 2, 3):
        part = getattr(data, f"tl{level}")
        if part is not None:
            changes[level] = {name: getattr(part, name) for name in part.model_fields_set}
    return changes


def dump_change(change) -> dict:
    return {
        **attrs(change, "old_level", "new_level", "reason", "granted"),
        "created_at": iso(change.created_at),
    }
