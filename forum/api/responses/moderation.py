"""Moderation: flags, the review queue, sanctions."""

from .shared import Cursor, Out, Timestamp, UserRef


class Flag(Out):
    id: int
    target: str
    target_id: int
    reason: str
    note: str
    weight: int
    outcome: str | None
    created_at: Timestamp | None
    reporter: UserRef | None = None
    reporter_accuracy: float | None = None


class QueueItem(Out):
    id: int
    target: str
    target_id: int
    kind: str
    status: str
    score: int
    flag_count: int
    auto_hidden: bool
    author: UserRef | None
    claimed_by: UserRef | None
    decision: str | None
    decision_reason: str
    url: str | None
    context: str | None
    body_html: str | None
    flags: list[Flag]
    created_at: Timestamp | None


class QueuePage(Out):
    items: list[QueueItem]
    next_cursor: Cursor


class SanctionedUser(Out):
    id: int
    username: str
    trust_level: int
    silenced_until: Timestamp | None
    silence_reason: str
    suspended_until: Timestamp | None
    suspension_reason: str
