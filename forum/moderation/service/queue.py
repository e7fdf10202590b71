"""The review queue: flagged items and new accounts' held posts, and moderators'
decisions on them.

``agree``: the flags were right; the target is hidden (a held post stays unpublished)
and its author is told why. ``disagree``: the target is restored (an auto-hidden item,
a held post published). ``ignore``: the flags are closed without a verdict on the
flaggers. Each decision is one guarded UPDATE on a pending item (a second decision,
or one on another moderator's claim, is a 409) and one audit entry."""

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ...clock import now
from ...database import update_where
from ...errors import Conflict, NotFound, ValidationFailed
from ...extensions import db
from ...notifications import service as notifications
from ...pagination import Page, decode, encode, keyset_page
from ...permissions import can_moderate
from ...trust import service as trust
from ..models import DECISIONS, Flag, ReviewItem
from ..schemas import Target
from .audit import check_moderator, check_reason, record
from .flags import describe, hide_target, item_for, record_item
from .settings import setting

OUTCOME = {"agree": "agreed", "disagree": "disagreed", "ignore": "ignored"}
DEFAULT_REASON = {
    "disagree": "The flags were not upheld.",
    "ignore": "Flags closed without a verdict.",
}
NOUNS = {
    "post": "post",
    "message": "chat message",
    "review": "review",
    "user": "profile",
    "product": "product",
}


def holds_new_post(author) -> bool:
    """Whether a post ``author`` is writing now waits in the queue: their first
    ``first_posts_held`` posts do, unless staff or at trust level 2 or more.
    Call before the post is counted (``author.post_count`` is the posts so far)."""
    held = setting("first_posts_held")
    if held <= 0 or can_moderate(author) or trust.level_of(author) >= 2:
        return False
    return int(author.post_count or 0) < held


def hold_for_review(target_type: str, target_id: int, author_id: int) -> ReviewItem:
    """Queue a held post (its owner keeps it unpublished until a moderator decides)."""
    item = item_for(target_type, target_id, author_id, "first_post")
    record_item(
        None, f"{target_type}.hold", item, reason="A new account's first posts wait for review."
    )
    return item


def queue(actor, *, status: str = "pending", cursor: str | None = None, limit: int = 20) -> Page:
    """Items with ``status`` (pending: oldest first, so nothing waits forever; decided:
    newest first), keyset-paginated by id. Moderators only."""
    check_moderator(actor)
    if status not in ("pending", "agreed", "disagreed", "ignored"):
        raise ValidationFailed(fields={"status": ["Unknown status."]})
    ascending = status == "pending"
    query = (
        select(ReviewItem)
        .options(joinedload(ReviewItem.author), joinedload(ReviewItem.claimed_by))
        .where(ReviewItem.status == status)
        .order_by(ReviewItem.id if ascending else ReviewItem.id.desc())
        .limit(limit + 1)
    )
    after = decode(cursor, 1)
    if after is not None:
        try:
            last = int(after[0])
        except (TypeError, ValueError):
            last = None
        if last is not None:
            query = query.where(ReviewItem.id > last if ascending else ReviewItem.id < last)
    rows = db.session.scalars(query).all()
    return keyset_page(rows, limit, lambda item: encode([item.id]))


def flags_of(item_ids) -> dict[int, list[Flag]]:
    """Each item's flags, newest first, their reporters loaded."""
    out: dict[int, list[Flag]] = {item_id: [] for item_id in item_ids}
    if not out:
        return out
    rows = db.session.scalars(
        select(Flag)
        .options(joinedload(Flag.reporter))
        .where(Flag.item_id.in_(list(out)))
        .order_by(Flag.id.desc())
    )
    for flag in rows:
        out[flag.item_id].append(flag)
    return out


def target_of(item: ReviewItem, viewer) -> Target | None:
    return describe(item.target_type, item.target_id, viewer=viewer)


def get_item(actor, item_id) -> ReviewItem:
    check_moderator(actor)
    item = db.session.get(ReviewItem, item_id) if isinstance(item_id, int) else None
    if item is None:
        raise NotFound("No such queue item.")
    return item


def claim(actor, item: ReviewItem, reason: str = "") -> ReviewItem:
    """Take the item so other moderators leave it; Conflict ``claimed`` when another
    moderator holds it, ``already_decided`` when decided."""
    check_moderator(actor)
    _move_pending(actor, item, claimed_by_id=actor.id, claimed_at=now())
    return item


def _move_pending(actor, item: ReviewItem, **values) -> None:
    """Write ``values`` on ``item`` while it is pending and unclaimed or ``actor``'s (one
    conditional UPDATE, so two moderators never both move it); else refuse, saying why."""
    done = update_where(
        ReviewItem,
        ReviewItem.id == item.id,
        ReviewItem.status == "pending",
        (ReviewItem.claimed_by_id.is_(None)) | (ReviewItem.claimed_by_id == actor.id),
        **values,
    )
    db.session.refresh(item)
    if not done:
        _refuse(item)


def _refuse(item: ReviewItem):
    if not item.is_pending:
        raise Conflict("This item was already decided.", code="already_decided")
    raise Conflict(
        f"{item.claimed_by.username if item.claimed_by else 'Another moderator'} has claimed this item.",
        code="claimed",
    )


def decide(actor, item: ReviewItem, action: str, reason: str = "") -> ReviewItem:
    """Decide a pending item (see the module docstring). A reason is required to agree
    (the author is sent it); disagree and ignore record a default one when none is
    given. Raises Conflict ``already_decided`` / ``claimed``; nothing changes then."""
    check_moderator(actor)
    if action not in DECISIONS:
        raise ValidationFailed(fields={"action": [f"Choose one of {', '.join(DECISIONS)}."]})
    if action == "agree":
        reason = check_reason(reason)
    else:
        reason = check_reason(reason) if (reason or "").strip() else DEFAULT_REASON[action]
    outcome = OUTCOME[action]
    at = now()
    was_hidden = item.auto_hidden or item.kind == "first_post"
    _move_pending(
        actor,
        item,
        status=outcome,
        decision=action,
        decision_reason=reason,
        decided_by_id=actor.id,
        decided_at=at,
        auto_hidden=False,
    )
    update_where(
        Flag, Flag.item_id == item.id, Flag.resolved_at.is_(None), outcome=outcome, resolved_at=at
    )
    if action == "agree" and item.target_type != "user":
        hide_target(item.target_type, item.target_id, True, actor, reason)
    elif action == "disagree" and was_hidden:
        # A held first post shown at last; the conditional UPDATE above decides an item
        # once, so its notifications go once.
        hide_target(
            item.target_type,
            item.target_id,
            False,
            actor,
            reason,
            released=item.kind == "first_post",
        )
    record_item(actor, f"queue.{action}", item, reason=reason, kind=item.kind)
    if item.author_id is not None and action == "agree":
        target = target_of(item, None) or target_of(item, actor)
        noun = NOUNS.get(item.target_type, item.target_type)
        text = (
            f"A moderator did not approve your {noun}: {reason}"
            if item.kind == "first_post"
            else f"A moderator hid your {noun}: {reason}"
            if item.target_type != "user"
            else f"A moderator upheld flags on your profile: {reason}"
        )
        notifications.notify(
            item.author_id,
            "moderation",
            text,
            target.url if target else url_for("notifications.index"),
            actor_id=actor.id,
            item_id=item.id,
        )
    return item


def restore(actor, target_type: str, target_id: int, reason: str) -> None:
    """A moderator puts back a post, chat message or product hidden by an earlier
    decision (reviews restore on their own page, with their rating rules). A reason is
    required; audited with links. Raises ValidationFailed, NotFound (no such item),
    Conflict ``not_hidden`` / ``pending`` (still in the queue: decide it there)."""
    check_moderator(actor)
    reason = check_reason(reason)
    if target_type not in ("post", "message", "product"):
        raise ValidationFailed(fields={"target": ["Restore posts, chat messages or products."]})
    target = describe(target_type, target_id, viewer=actor)
    if target is None:
        raise NotFound("No such thing to restore.")
    if not target.hidden:
        raise Conflict("That is not hidden.", code="not_hidden")
    pending = db.session.scalar(
        select(ReviewItem.id).where(
            ReviewItem.target_type == target_type,
            ReviewItem.target_id == target_id,
            ReviewItem.status == "pending",
        )
    )
    if pending is not None:
        raise Conflict("It waits in the review queue: decide it there.", code="pending")
    hide_target(target_type, target_id, False, actor, reason)
    record(
        actor,
        f"{target_type}.restore",
        target_type,
        target_id,
        reason=reason,
        subject_id=target.author_id,
    )


def pending_count() -> int:
    return int(
        db.session.scalar(select(func.count(ReviewItem.id)).where(ReviewItem.status == "pending"))
        or 0
    )
