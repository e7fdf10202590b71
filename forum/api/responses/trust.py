"""Response shapes of the trust endpoints."""

from .shared import Out


class LevelRules(Out):
    account_age_days: int
    topics_entered: int
    posts_read: int
    minutes_reading: int
    days_visited: int
    recent_days_visited: int
    likes_given: int
    likes_received: int
    replies: int
    max_recent_flags: int | None


class TrustRules(Out):
    tl1: LevelRules
    tl2: LevelRules
    tl3: LevelRules
    recent_window_days: int
