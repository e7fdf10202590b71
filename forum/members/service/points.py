"""Points that bring members back: earning rules, daily caps, reversal, the visit streak,
the month's leaderboard.

Other features call ``award(user_id, rule, key=...)`` when something earns points
(reviews: ``award(author_id, "review", key=f"item:{order_item_id}")``, the rules table
being the one owner of what a review or a report earns) and ``reverse(key)`` when it is
undone, wholly or in part; both are idempotent by key.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from ...clock import now
from ...errors import field_error
from ...extensions import db
from ..models import LedgerEntry, VisitStreak
from .ledger import post, take_back
from .rules import points_rules


def _day_start(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _earned_today(user_id: int, rule: str, at: datetime) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.user_id == user_id,
                LedgerEntry.account == "points",
                LedgerEntry.reason == f"earn:{rule}",
                LedgerEntry.created_at >= _day_start(at),
            )
        )
        or 0
    )


def award(
    user_id: int, rule: str, *, key: str, units: int = 1, order_id: int | None = None, **params
) -> int:
    """Give ``rule``'s points times ``units`` to ``user_id``, within the rule's daily cap.

    Returns the points given (0: rule off, capped, or ``key`` already awarded). The
    daily cap is counted, not locked: two awards racing may pass it by one award.
    """
    found = points_rules().get(rule)
    if found is None:
        raise field_error("rule", "Unknown points rule.")
    if not found.active or found.points <= 0 or units <= 0:
        return 0
    amount = found.points * units
    if found.daily_cap is not None:
        amount = min(amount, found.daily_cap - _earned_today(user_id, rule, now()))
    if amount <= 0:
        return 0
    given = post(
        user_id,
        "points",
        amount,
        f"earn:{rule}",
        key=f"points:{rule}:{key}",
        order_id=order_id,
        **params,
    )
    return amount if given else 0


def _entry(key: str) -> LedgerEntry | None:
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))


def reversed_so_far(key: str) -> int:
    return -int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                LedgerEntry.idempotency_key.like(f"rev:{key}:%")
            )
        )
        or 0
    )


def reverse(
    key: str,
    *,
    rule: str | None = None,
    share: tuple[int, int] | None = None,
    step: str = "all",
    reason: str = "points_reversed",
) -> int:
    """Take back what was posted under ``key`` (``award``'s key, with ``rule``; or any
    keyed credit or points entry), wholly or ``share`` = (part, whole) of it; ``step``
    names this reversal (idempotent by it), ``reason`` is the ledger's word for it.

    Never below zero: what was already spent is forgiven (recorded as ``short``).
    Returns the amount taken back.
    """
    full_key = f"points:{rule}:{key}" if rule else key
    entry = _entry(full_key)
    if entry is None or entry.amount <= 0:
        return 0
    done = reversed_so_far(full_key)
    if share is None:
        amount = entry.amount - done
    else:
        part, whole = share
        amount = min(entry.amount * part // whole, entry.amount - done) if whole else 0
    if amount <= 0:
        return 0
    return take_back(
        entry.user_id,
        entry.account,
        amount,
        reason,
        key=f"rev:{full_key}:{step}",
        of=full_key,
        order_id=entry.order_id,
    )


# --- what other features send (connected in members.init_app) -----------------------


def on_post_liked(post, *, liker, liked: bool) -> None:
    """A like earns the post's author the "likes" points, once per (post, liker); an
    unlike takes them back. Liking your own post earns nothing. A like undone and given
    again earns nothing more (the key is spent), so liking in a loop farms nothing."""
    if post.author_id is None or post.author_id == liker.id:
        return
    key = f"post:{post.id}:liker:{liker.id}"
    if liked:
        award(post.author_id, "likes", key=key, post_id=post.id, liker_id=liker.id)
    else:
        reverse(key, rule="likes")


def on_signup_checked_in(signup, *, event, checked_in: bool) -> None:
    """An event check-in earns the participant the "checkin" points once per sign-up;
    the host undoing it takes them back (checking in again after that earns nothing more)."""
    key = f"signup:{signup.id}"
    if checked_in:
        award(signup.user_id, "checkin", key=key, event_id=event.id, signup_id=signup.id)
    else:
        reverse(key, rule="checkin")


def check_in(user) -> int:
    """The daily visit: extends the streak (or starts one) and awards its points once a day."""
    at = now()
    today = at.date().isoformat()
    yesterday = (at.date() - timedelta(days=1)).isoformat()
    streak = db.session.get(VisitStreak, user.id)
    if streak is None:
        streak = VisitStreak(user_id=user.id, last_day=today, length=1)
        db.session.add(streak)
    elif streak.last_day == today:
        return 0
    else:
        streak.length = streak.length + 1 if streak.last_day == yesterday else 1
        streak.last_day = today
    db.session.flush()
    return award(user.id, "streak", key=f"{user.id}:{today}", units=streak.length, day=today)


def streak_of(user_id: int) -> int:
    streak = db.session.get(VisitStreak, user_id)
    if streak is None:
        return 0
    at = now().date()
    alive = (at.isoformat(), (at - timedelta(days=1)).isoformat())
    return streak.length if streak.last_day in alive else 0


def leaderboard(limit: int = 10, at: datetime | None = None) -> list[tuple[int, str, int]]:
    """(user_id, username, points earned) this calendar month (UTC), most first."""
    from ...accounts.models import User

    at = at or now()
    start = _day_start(at).replace(day=1)
    earned = func.sum(LedgerEntry.amount).label("earned")
    rows = db.session.execute(
        select(LedgerEntry.user_id, User.username, earned)
        .join(User, User.id == LedgerEntry.user_id)
        .where(
            LedgerEntry.account == "points",
            LedgerEntry.reason.like("earn:%"),
            LedgerEntry.created_at >= start,
        )
        .group_by(LedgerEntry.user_id, User.username)
        .order_by(earned.desc(), LedgerEntry.user_id)
        .limit(limit)
    ).all()
    return [(row.user_id, row.username, int(row.earned)) for row in rows]
