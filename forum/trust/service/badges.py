"""Badges for the behaviour the community wants, awarded by rules (signals as things
happen, and the periodic job), once per member and badge, shown on profiles.

- ``helpful``: a reply of theirs was liked by ``BADGE_HELPFUL_LIKES`` members;
- ``welcomer``: replied to threads started by ``BADGE_WELCOMER_NEWCOMERS`` new members
  (accounts younger than ``BADGE_NEWCOMER_DAYS``);
- ``event_regular``: checked in at ``BADGE_EVENT_REGULAR_EVENTS`` events;
- ``regular``: reached trust level 3;
- ``trusted_reviewer``: ``BADGE_TRUSTED_REVIEWER_REVIEWS`` published reviews (not hidden,
  not deleted), each found helpful by ``BADGE_TRUSTED_REVIEWER_HELPFUL`` members: checked
  when a review of theirs changes (``signals.review_changed``) and by the periodic job,
  which catches helpful votes (a vote sends no signal).

An award is an insert-once on (user, badge), so racing signals award and notify once.
"""

from flask import current_app
from sqlalchemy import func, select

from ...accounts.models import User
from ...clock import now
from ...database import insert_ignore
from ...extensions import db
from ...notifications import service as notifications
from ..models import BadgeAward, BadgeMark

BADGES: dict[str, tuple[str, str]] = {
    "helpful": ("Helpful", "Wrote a reply many members liked"),
    "welcomer": ("Welcomer", "Welcomed newcomers by replying to their first threads"),
    "event_regular": ("Event regular", "Came to several community events"),
    "regular": ("Regular", "Reached trust level 3 by taking part over months"),
    "trusted_reviewer": (
        "Trusted reviewer",
        "Wrote several published reviews other members found helpful",
    ),
}


def award(user_id: int, badge: str, reason: str = "") -> bool:
    """Give ``badge`` once; True when it is new (the member is notified)."""
    inserted = db.session.execute(
        insert_ignore(
            BadgeAward,
            {"user_id": user_id, "badge": badge, "reason": reason[:200], "awarded_at": now()},
            index_elements=["user_id", "badge"],
        ).returning(BadgeAward.id)
    ).first()
    if inserted is None:
        return False
    name, _ = BADGES[badge]
    user = db.session.get(User, user_id)
    notifications.notify(
        user_id,
        "badge",
        f"You earned the “{name}” badge: {BADGES[badge][1].lower()}.",
        f"/u/{user.username}" if user else "/",
        badge=badge,
    )
    return True


def _mark(user_id: int, badge: str, ref_id: int) -> int:
    """Count ``ref_id`` once towards ``badge``; returns the member's count."""
    db.session.execute(
        insert_ignore(BadgeMark, {"user_id": user_id, "badge": badge, "ref_id": ref_id})
    )
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(BadgeMark)
            .where(BadgeMark.user_id == user_id, BadgeMark.badge == badge)
        )
        or 0
    )


def on_reply_liked(author_id: int, post_id: int, like_count: int, is_reply: bool) -> None:
    if is_reply and like_count >= int(current_app.config["BADGE_HELPFUL_LIKES"]):
        award(author_id, "helpful", f"post:{post_id}")


def on_reply(author_id: int, thread_author_id: int) -> None:
    """A reply to a thread a new member started welcomes them (counted once per newcomer)."""
    if author_id == thread_author_id:
        return
    newcomer = db.session.get(User, thread_author_id)
    if newcomer is None or (now() - newcomer.created_at).days >= int(
        current_app.config["BADGE_NEWCOMER_DAYS"]
    ):
        return
    if _mark(author_id, "welcomer", thread_author_id) >= int(
        current_app.config["BADGE_WELCOMER_NEWCOMERS"]
    ):
        award(author_id, "welcomer")


def on_checked_in(user_id: int, event_id: int) -> None:
    if _mark(user_id, "event_regular", event_id) >= int(
        current_app.config["BADGE_EVENT_REGULAR_EVENTS"]
    ):
        award(user_id, "event_regular")


def _trusted_reviewers(author_id: int | None = None) -> list[int]:
    # Imported here: reviews' service reaches trust through moderation's, so a
    # module-level import would be circular.
    from ...reviews import service as reviews

    return reviews.helpful_reviewers(
        int(current_app.config["BADGE_TRUSTED_REVIEWER_REVIEWS"]),
        int(current_app.config["BADGE_TRUSTED_REVIEWER_HELPFUL"]),
        author_id=author_id,
    )


def on_review_changed(author_id: int, change: str) -> None:
    """A review was written, edited or restored: its author may have earned
    ``trusted_reviewer`` (a hidden or deleted review takes nothing back)."""
    if change in ("created", "edited", "restored") and _trusted_reviewers(author_id):
        award(author_id, "trusted_reviewer")


def award_trusted_reviewers() -> int:
    """The periodic sweep: everyone the rule names now (helpful votes send no signal).
    Returns how many badges are new."""
    return sum(award(user_id, "trusted_reviewer") for user_id in _trusted_reviewers())


def badges_of(user_id: int) -> list[dict]:
    rows = db.session.scalars(
        select(BadgeAward).where(BadgeAward.user_id == user_id).order_by(BadgeAward.awarded_at)
    )
    return [
        {
            "badge": row.badge,
            "name": BADGES[row.badge][0],
            "description": BADGES[row.badge][1],
            "awarded_at": row.awarded_at,
        }
        for row in rows
        if row.badge in BADGES
    ]
