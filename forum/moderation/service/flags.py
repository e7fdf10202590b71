"""Flags: members report a post, message, review, profile or product.

A flag lands on the target's one review item (created on first flag, reopened by a flag
after a decision) and adds its weight to the item's score in SQL. Past the
``flag_hide_score`` setting one guarded UPDATE marks the item ``auto_hidden`` and the
target's owner hides it: under any number of racing flaggers that UPDATE matches once
(the score update row-locks the item, so they queue on it), so the item is hidden
and audited exactly once. Each flagger's weight is fixed when they flag."""

from datetime import datetime

from flask import current_app, url_for
from markupsafe import escape
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from ... import ratelimit, signals
from ...accounts.models import User
from ...clock import now
from ...database import add_unique, update_row, update_where
from ...errors import Conflict, Forbidden, NotFound, ValidationFailed
from ...extensions import db
from ...permissions import can_moderate, check_member
from ...trust import service as trust
from ..models import FLAG_REASONS, FLAG_TARGETS, Flag, ReviewItem
from ..schemas import REASON_MAX, Target, target_answer
from .audit import check_moderator, record
from .settings import setting


def accuracy(user_ids) -> dict[int, float | None]:
    """Each flagger's share of decided flags a moderator agreed with (None: none decided yet)."""
    ids = list(set(user_ids))
    out: dict[int, float | None] = dict.fromkeys(ids)
    if not ids:
        return out
    rows = db.session.execute(
        select(
            Flag.reporter_id,
            func.sum(case((Flag.outcome == "agreed", 1), else_=0)),
            func.sum(case((Flag.outcome == "disagreed", 1), else_=0)),
        )
        .where(Flag.reporter_id.in_(ids), Flag.outcome.in_(("agreed", "disagreed")))
        .group_by(Flag.reporter_id)
    )
    for reporter_id, agreed, disagreed in rows:
        decided = int(agreed or 0) + int(disagreed or 0)
        out[reporter_id] = int(agreed or 0) / decided if decided else None
    return out


def flag_weight(user) -> int:
    """10 x (1 + trust level, staff count as 4) x accuracy factor, where the factor is
    2 x (agreed + 1) / (decided + 2): 1 with no history, towards 2 for a flagger
    moderators always agree with, towards 0 for one they never do. At least 1."""
    level = 4 if can_moderate(user) else trust.level_of(user)
    agreed, disagreed = db.session.execute(
        select(
            func.coalesce(func.sum(case((Flag.outcome == "agreed", 1), else_=0)), 0),
            func.coalesce(func.sum(case((Flag.outcome == "disagreed", 1), else_=0)), 0),
        ).where(Flag.reporter_id == user.id)
    ).one()
    factor = 2 * (int(agreed) + 1) / (int(agreed) + int(disagreed) + 2)
    return max(1, round(10 * (1 + level) * factor))


@target_answer(lambda target_id, viewer: db.session.get(User, target_id))
def _describe_profile(user: User) -> Target:
    return Target(
        kind="user",
        id=user.id,
        author_id=user.id,
        url=url_for("accounts.profile", username=user.username),
        context=f"the profile of {user.username}",
        body_html=escape(user.bio or ""),
    )


def describe(target_type: str, target_id: int, viewer=None) -> Target | None:
    """The target as ``viewer`` may see it, from its owner (profiles: moderation's own
    answer, a user being the shared kernel); None when missing or not visible."""
    if target_type == "user":
        return _describe_profile(target_type, target_id=target_id, viewer=viewer)
    return signals.ask(signals.moderation_target, target_type, target_id=target_id, viewer=viewer)


def item_for(target_type: str, target_id: int, author_id: int | None, kind: str) -> ReviewItem:
    """The target's one review item, created if missing. Two first flaggers racing on
    PostgreSQL: the second insert waits on the unique index, fails, and reads the row
    the first committed."""
    query = select(ReviewItem).where(
        ReviewItem.target_type == target_type, ReviewItem.target_id == target_id
    )
    item = db.session.scalar(query)
    if item is not None:
        return item
    try:
        with db.session.begin_nested():
            item = ReviewItem(
                target_type=target_type, target_id=target_id, author_id=author_id, kind=kind
            )
            db.session.add(item)
            db.session.flush()
    except IntegrityError:
        item = db.session.scalar(query)
        if item is None:  # pragma: no cover - the unique row exists by now
            raise
    return item


def record_item(
    actor: User | None, action: str, item: ReviewItem, *, reason: str, **params
) -> None:
    """Audit a step in a review item's life: the entry points at the item's target, its
    subject is the target's author, and it links the item."""
    record(
        actor,
        action,
        item.target_type,
        item.target_id,
        reason=reason,
        subject_id=item.author_id,
        item_id=item.id,
        **params,
    )


def _check_flag(reason, note) -> str:
    if reason not in FLAG_REASONS:
        raise ValidationFailed(fields={"reason": [f"Choose one of {', '.join(FLAG_REASONS)}."]})
    if not isinstance(note, str) or len(note) > REASON_MAX:
        raise ValidationFailed(fields={"note": [f"Keep the note under {REASON_MAX} characters."]})
    note = note.strip()
    if reason == "other" and not note:
        raise ValidationFailed(fields={"note": ["Say what is wrong."]})
    return note


def flag(
    actor: User,
    target_type: str,
    target_id: int,
    reason: str,
    note: str = "",
    *,
    author_id: int | None = None,
) -> Flag:
    """Record ``actor``'s flag on a target the caller has already found visible.

    Raises ValidationFailed for an unknown reason or a long note (``other`` needs a
    note), Conflict ``already_flagged`` for a second flag by the same member, Forbidden
    for a suspended account; nothing is written then. Adds the flag's weight to the
    item's score and auto-hides the item once past the threshold."""
    note = _check_flag(reason, note)
    check_member(actor)
    ratelimit.consume(
        current_app.config["FLAG_LIMIT"], "flag", actor.id, message="You are flagging too fast."
    )
    weight = flag_weight(actor)
    item = item_for(target_type, target_id, author_id, "flagged")
    entry = Flag(
        target_type=target_type,
        target_id=target_id,
        item_id=item.id,
        reporter_id=actor.id,
        reason=reason,
        note=note,
        weight=weight,
    )
    if not add_unique(entry):
        raise Conflict("You have already flagged this.", code="already_flagged")
    pending = ReviewItem.status == "pending"
    update_row(
        item,
        score=case((pending, ReviewItem.score + weight), else_=weight),
        flag_count=case((pending, ReviewItem.flag_count + 1), else_=1),
        kind=case((pending, ReviewItem.kind), else_="flagged"),
        claimed_by_id=case((pending, ReviewItem.claimed_by_id), else_=None),
        status="pending",
    )
    _auto_hide(item)
    db.session.refresh(item)
    return entry


def _auto_hide(item: ReviewItem) -> None:
    threshold = setting("flag_hide_score")
    if threshold <= 0:
        return
    row = db.session.execute(
        update(ReviewItem)
        .where(
            ReviewItem.id == item.id,
            ReviewItem.status == "pending",
            ReviewItem.auto_hidden.is_(False),
            ReviewItem.score >= threshold,
        )
        .values(auto_hidden=True)
        .returning(ReviewItem.score, ReviewItem.author_id)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return
    reason = f"Hidden automatically: members' flags reached a score of {row.score}."
    hide_target(item.target_type, item.target_id, True, None, reason)
    record_item(None, f"{item.target_type}.auto_hide", item, reason=reason, score=row.score)


def hide_target(
    target_type: str, target_id: int, hidden: bool, actor, reason: str, *, released: bool = False
) -> None:
    """Ask the target's owner to hide it (or show it again): the flag score's auto-hide,
    a moderator's decision or restore. ``released``: a held first post shown at last,
    so its owner (board) sends the notifications it skipped."""
    signals.ask(
        signals.moderation_hide,
        target_type,
        target_id=target_id,
        hidden=hidden,
        actor=actor,
        reason=reason,
        **({"released": True} if released else {}),
    )


def flag_target(actor: User, target_type: str, target_id: int, reason: str, note: str = "") -> Flag:
    """The flag API and dialog: NotFound unless ``actor`` may see the target (its owner
    answers), Forbidden ``own_content`` for one's own post or profile, then ``flag``."""
    if target_type not in FLAG_TARGETS:
        raise ValidationFailed(fields={"target": [f"Choose one of {', '.join(FLAG_TARGETS)}."]})
    check_member(actor)
    target = describe(target_type, target_id, viewer=actor)
    if target is None:
        raise NotFound("No such thing to flag.")
    if target.author_id == actor.id:
        raise Forbidden("You cannot flag your own.", code="own_content")
    return flag(actor, target_type, target_id, reason, note, author_id=target.author_id)


def flags_against(user_id: int, since: datetime) -> int:
    """Flags on ``user_id``'s things (or profile) since ``since`` that moderators agreed
    with: what trust's TL3 rule calls "few flags" (dismissed flags do not count)."""
    return int(
        db.session.scalar(
            select(func.count(Flag.id))
            .join(ReviewItem, ReviewItem.id == Flag.item_id)
            .where(
                ReviewItem.author_id == user_id,
                Flag.outcome == "agreed",
                Flag.created_at >= since,
            )
        )
        or 0
    )


def open_flag_counts(target_type: str) -> dict[int, int]:
    """Open (unresolved) flags per target of ``target_type``."""
    rows = db.session.execute(
        select(Flag.target_id, func.count())
        .where(Flag.target_type == target_type, Flag.resolved_at.is_(None))
        .group_by(Flag.target_id)
    )
    return {target_id: count for target_id, count in rows}


def resolve_flags(actor: User, target_type: str, target_id: int, outcome: str = "agreed") -> int:
    """A moderator decided on the target through its owner's own tools (reviews' hide):
    close its open flags with ``outcome`` and its item. Returns how many flags."""
    check_moderator(actor)
    at = now()
    count = update_where(
        Flag,
        Flag.target_type == target_type,
        Flag.target_id == target_id,
        Flag.resolved_at.is_(None),
        resolved_at=at,
        outcome=outcome,
    )
    update_where(
        ReviewItem,
        ReviewItem.target_type == target_type,
        ReviewItem.target_id == target_id,
        ReviewItem.status == "pending",
        status=outcome,
        decision=outcome,
        decided_by_id=actor.id,
        decided_at=at,
        auto_hidden=False,
    )
    return count
