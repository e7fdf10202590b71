"""Trust levels from behaviour: the rules table, the counters, evaluation and staff grants.

Levels 1-3 are earned by meeting every requirement of that level and of the levels
below it (Discourse's spirit: reading first, then days visited, likes and replies,
then participation sustained over ``TRUST_RECENT_WINDOW_DAYS`` with few flags).
Level 4 is only granted by staff. The rules only ever raise a member: they never
lower anyone (so a TL4 grant stays), and a member a moderator moved down stays where
the moderator put them until a moderator moves them again.

Counters move in SQL (``+ 1`` in the UPDATE); a promotion is one conditional UPDATE
(``trust_level < :new``), so two evaluations racing promote, record and notify once.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import case, delete, func, select, update

from ... import signals
from ...accounts.models import User
from ...clock import now
from ...database import id_batches, insert_ignore
from ...errors import Forbidden, ValidationFailed, field_error
from ...extensions import db
from ...moderation import service as moderation
from ...notifications import service as notifications
from ...permissions import can_moderate, is_admin
from ..models import TrustActivity, TrustChange, TrustRule, TrustThreadRead, TrustVisit
from .badges import award
from .common import LEVEL_NAMES

# What a requirement can be about, with how it reads on the admin page.
METRICS: dict[str, str] = {
    "account_age_days": "Days since the account was created",
    "topics_entered": "Topics entered (distinct threads opened)",
    "posts_read": "Posts read",
    "minutes_reading": "Minutes spent reading",
    "days_visited": "Days visited",
    "recent_days_visited": "Days visited in the recent window",
    "likes_given": "Likes given",
    "likes_received": "Likes received",
    "replies": "Replies posted",
    "max_recent_flags": "At most this many flags against them in the recent window",
}
CEILINGS = ("max_recent_flags",)  # a ceiling; absent (None) means no limit
EARNED_LEVELS = (1, 2, 3)
THRESHOLD_MAX = 1_000_000
READ_SECONDS_CAP = 120  # one read report counts at most this long as reading

DEFAULT_RULES: dict[int, dict[str, int | None]] = {
    1: {"topics_entered": 5, "posts_read": 30, "minutes_reading": 10},
    2: {
        "days_visited": 15,
        "likes_given": 1,
        "likes_received": 1,
        "replies": 3,
        "topics_entered": 20,
        "posts_read": 100,
        "minutes_reading": 60,
    },
    3: {
        "account_age_days": 100,
        "recent_days_visited": 50,
        "replies": 10,
        "topics_entered": 50,
        "posts_read": 250,
        "likes_given": 30,
        "likes_received": 20,
        "max_recent_flags": 5,
    },
}


def _complete(level_rules: dict[str, int | None]) -> dict[str, int | None]:
    return {name: level_rules.get(name, None if name in CEILINGS else 0) for name in METRICS}


def rules() -> dict[int, dict[str, int | None]]:
    """Every metric of levels 1-3: the saved rows over the defaults (0: not required)."""
    table = {level: _complete(DEFAULT_RULES[level]) for level in EARNED_LEVELS}
    rows = list(db.session.scalars(select(TrustRule)))
    if rows:
        table = {level: _complete({}) for level in EARNED_LEVELS}
        for row in rows:
            if row.level in table and row.metric in METRICS:
                table[row.level][row.metric] = row.threshold
    return table


def window_days() -> int:
    return int(current_app.config["TRUST_RECENT_WINDOW_DAYS"])


def rules_json(table: dict[int, dict[str, int | None]] | None = None) -> dict:
    table = table if table is not None else rules()
    return {f"tl{level}": table[level] for level in EARNED_LEVELS} | {
        "recent_window_days": window_days()
    }


def update_rules(
    actor, changes: dict[int, dict[str, int | None]]
) -> dict[int, dict[str, int | None]]:
    """Save some requirements (admin). ``changes`` maps a level (1-3) to metrics and their
    thresholds; a ceiling set to None is lifted. Raises Forbidden, ValidationFailed
    (nothing saved). Later evaluations use the new rules."""
    if not is_admin(actor):
        raise Forbidden("Only admins can change the trust rules.")
    errors: dict[str, list[str]] = {}
    table = rules()
    for level, values in changes.items():
        if level not in EARNED_LEVELS:
            errors[f"tl{level}"] = ["Levels 1 to 3 have rules; level 4 is granted by staff."]
            continue
        for metric, value in values.items():
            key = f"tl{level}.{metric}"
            if metric not in METRICS:
                errors[key] = ["Unknown requirement."]
            elif value is None and metric not in CEILINGS:
                errors[key] = ["Give a number (0: not required)."]
            elif value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= THRESHOLD_MAX
            ):
                errors[key] = [f"Use a whole number from 0 to {THRESHOLD_MAX:,}."]
            else:
                table[level][metric] = value
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    db.session.execute(delete(TrustRule))
    at = now()
    for level in EARNED_LEVELS:
        for metric, value in table[level].items():
            if value is not None:
                db.session.add(
                    TrustRule(
                        level=level,
                        metric=metric,
                        threshold=value,
                        updated_at=at,
                        updated_by_id=actor.id,
                    )
                )
    moderation.record(actor, "trust.rules", "site", 0, rules=rules_json(table))
    db.session.flush()
    return table


# --- counting what members do ------------------------------------------------------------


def _ensure_activity(user_id: int) -> None:
    db.session.execute(
        insert_ignore(TrustActivity, {"user_id": user_id}, index_elements=["user_id"])
    )


def _bump(user_id: int, **deltas) -> None:
    values = {
        name: case(
            (getattr(TrustActivity, name) + delta < 0, 0),
            else_=getattr(TrustActivity, name) + delta,
        )
        for name, delta in deltas.items()
    }
    bump = update(TrustActivity).where(TrustActivity.user_id == user_id).values(**values)
    # The row exists after a member's first counted act: update first, create only then.
    if not db.session.execute(bump).rowcount:
        _ensure_activity(user_id)
        db.session.execute(bump)


def record_visit(user_id: int, day: date | None = None) -> None:
    """Count ``day`` (today, UTC) once as a day the member visited."""
    day = day or now().date()
    inserted = db.session.execute(
        insert_ignore(TrustVisit, {"user_id": user_id, "day": day}).returning(TrustVisit.day)
    ).first()
    if inserted is not None:
        _bump(user_id, days_visited=1)


def record_thread_read(user_id: int, thread_id: int, position: int) -> None:
    """The member's read beacon says they read a thread up to post ``position``: a topic
    entered the first time, the advance past the highest position they reported before
    as posts read (at most one page per report, so jumping to a thread's last page is
    not reading all of it), and the time since their previous report (at most
    READ_SECONDS_CAP) as reading time."""
    page = int(current_app.config["POSTS_PER_PAGE"])
    at = now()
    _ensure_activity(user_id)
    first = db.session.execute(
        insert_ignore(
            TrustThreadRead,
            {"user_id": user_id, "thread_id": thread_id, "posts_seen": position, "first_at": at},
        ).returning(TrustThreadRead.thread_id)
    ).first()
    if first is not None:
        posts_delta, topics_delta = min(position, page), 1
    else:
        seen = (
            db.session.scalar(
                select(TrustThreadRead.posts_seen).where(
                    TrustThreadRead.user_id == user_id, TrustThreadRead.thread_id == thread_id
                )
            )
            or 0
        )
        moved = (
            db.session.execute(
                update(TrustThreadRead)
                .where(
                    TrustThreadRead.user_id == user_id,
                    TrustThreadRead.thread_id == thread_id,
                    TrustThreadRead.posts_seen == seen,
                )
                .values(posts_seen=position)
            ).rowcount
            if position > seen
            else 0
        )
        posts_delta, topics_delta = (min(position - seen, page) if moved else 0), 0
    last = db.session.scalar(
        select(TrustActivity.last_read_at).where(TrustActivity.user_id == user_id)
    )
    record_visit(user_id, at.date())
    seconds = 0
    if last is not None:
        seconds = _reading_allowed(
            user_id, at.date(), max(0, min(int((at - last).total_seconds()), READ_SECONDS_CAP))
        )
    db.session.execute(
        update(TrustActivity)
        .where(TrustActivity.user_id == user_id)
        .values(
            topics_entered=TrustActivity.topics_entered + topics_delta,
            posts_read=TrustActivity.posts_read + posts_delta,
            reading_seconds=TrustActivity.reading_seconds + seconds,
            last_read_at=at,
        )
    )


def _reading_allowed(user_id: int, day: date, seconds: int) -> int:
    """How much of ``seconds`` still counts as reading on ``day``: a script posting the read
    beacon around the clock earns no more than TRUST_READ_SECONDS_PER_DAY a day (Discourse's
    minutes-read gate is farmed the same way). Compare-and-set on the day's total, so two
    beacons at once cannot both take the last minutes."""
    cap = int(current_app.config["TRUST_READ_SECONDS_PER_DAY"])
    used = db.session.scalar(
        select(TrustVisit.reading_seconds).where(
            TrustVisit.user_id == user_id, TrustVisit.day == day
        )
    )
    allowed = max(0, min(seconds, cap - (used or 0)))
    if not allowed:
        return 0
    moved = db.session.execute(
        update(TrustVisit)
        .where(
            TrustVisit.user_id == user_id,
            TrustVisit.day == day,
            TrustVisit.reading_seconds == (used or 0),
        )
        .values(reading_seconds=(used or 0) + allowed)
    ).rowcount
    return allowed if moved else 0


def record_reply(user_id: int) -> None:
    _bump(user_id, replies=1)
    record_visit(user_id)


def record_like(liker_id: int, author_id: int, *, liked: bool) -> None:
    step = 1 if liked else -1
    _bump(liker_id, likes_given=step)
    if author_id != liker_id:
        _bump(author_id, likes_received=step)
    if liked:
        record_visit(liker_id)


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where a member stands against the next level's requirements."""

    level: int
    next_level: int | None
    figures: dict[str, int]
    missing: dict[str, tuple[int, int | None]]  # metric -> (have, need)


def _flags_against(user_id: int, since: datetime) -> int:
    """Upheld flags against the member since ``since`` (moderation's answer)."""
    return int(moderation.flags_against(user_id, since))


# The metrics that each cost a query of their own (the rest come from one row).
_COUNTED = ("recent_days_visited", "max_recent_flags")


def figures(user: User, *, counted: bool = True) -> dict[str, int]:
    """The member's value for every metric, as of now; ``counted=False`` leaves out the
    two that each need a count (``_COUNTED``), for a first look."""
    at = now()
    row = db.session.get(TrustActivity, user.id)
    have = {
        "account_age_days": max(0, (at - user.created_at).days),
        "topics_entered": row.topics_entered if row else 0,
        "posts_read": row.posts_read if row else 0,
        "minutes_reading": (row.reading_seconds // 60) if row else 0,
        "days_visited": row.days_visited if row else 0,
        "likes_given": row.likes_given if row else 0,
        "likes_received": row.likes_received if row else 0,
        "replies": row.replies if row else 0,
    }
    if counted:
        since = at - timedelta(days=window_days())
        recent_visits = db.session.scalar(
            select(func.count())
            .select_from(TrustVisit)
            .where(TrustVisit.user_id == user.id, TrustVisit.day >= since.date())
        )
        have["recent_days_visited"] = int(recent_visits or 0)
        have["max_recent_flags"] = _flags_against(user.id, since)
    return have


def _unmet(have: dict[str, int], need: dict[str, int | None]) -> dict[str, tuple[int, int | None]]:
    """The requirements of ``need`` that ``have`` misses; a metric ``have`` leaves out is
    not judged (``figures(counted=False)``)."""
    missing = {}
    for metric, threshold in need.items():
        if threshold is None or metric not in have:
            continue
        if metric in CEILINGS:
            if have[metric] > threshold:
                missing[metric] = (have[metric], threshold)
        elif have[metric] < threshold:
            missing[metric] = (have[metric], threshold)
    return missing


def earned_level(have: dict[str, int], table: dict[int, dict[str, int | None]]) -> int:
    """The highest level whose requirements, and every lower level's, are all met."""
    earned = 0
    for level in EARNED_LEVELS:
        if _unmet(have, table[level]):
            break
        earned = level
    return earned


def progress(user: User) -> Progress:
    have = figures(user)
    table = rules()
    level = int(user.trust_level or 0)
    nxt = level + 1 if level < max(EARNED_LEVELS) else None
    return Progress(
        level=level,
        next_level=nxt,
        figures=have,
        missing=_unmet(have, table[nxt]) if nxt else {},
    )


def _held_by_staff(user_id: int) -> bool:
    """True when the member's latest move was a staff grant that lowered them."""
    last = db.session.scalars(
        select(TrustChange)
        .where(TrustChange.user_id == user_id)
        .order_by(TrustChange.id.desc())
        .limit(1)
    ).first()
    return bool(last and last.granted and last.new_level < last.old_level)


def _move(user: User, new: int, *, reason: str, actor: User | None, granted: bool) -> bool:
    """Set the level with one conditional UPDATE; record, notify and signal once."""
    old = int(user.trust_level or 0)
    moved = db.session.execute(
        update(User).where(User.id == user.id, User.trust_level == old).values(trust_level=new)
    ).rowcount
    if not moved:
        return False
    db.session.add(
        TrustChange(
            user_id=user.id,
            old_level=old,
            new_level=new,
            reason=reason[:300],
            actor_id=actor.id if actor else None,
            granted=granted,
        )
    )
    db.session.flush()
    db.session.refresh(user, ["trust_level"])
    if new > old:
        notifications.notify(
            user.id,
            "trust_level",
            f"You are now trust level {new} ({LEVEL_NAMES[new]}): {UNLOCKED.get(new, 'thank you')}.",
            f"/u/{user.username}",
            level=new,
        )
    if new >= 3 > old:
        award(user.id, "regular", f"trust level {new}")
    signals.trust_changed.send(user, old=old, new=new, reason=reason)
    return True


UNLOCKED = {
    1: "links, images and mentions without the newcomer limits, direct messages and new chat rooms",
    2: "thank you for taking part",
    3: "thank you for being a regular",
    4: "thank you for leading the community",
}


def evaluate(user: User) -> int:
    """Raise ``user`` to the level the rules give them (never lower); returns their level."""
    if user is None or can_moderate(user):
        return int(getattr(user, "trust_level", 0) or 0)
    current = int(user.trust_level or 0)
    if current >= max(EARNED_LEVELS):
        return current
    table = rules()
    # Most evaluations (every reply, like and read) find the next level out of reach on
    # the counters row alone; only then are the counts and the staff hold worth a query.
    if earned_level(figures(user, counted=False), table) <= current or _held_by_staff(user.id):
        return current
    earned = earned_level(figures(user), table)
    if earned > current:
        _move(user, earned, reason="rules", actor=None, granted=False)
    return int(user.trust_level or 0)


def evaluate_id(user_id: int) -> int:
    user = db.session.get(User, user_id)
    return evaluate(user) if user is not None else 0


def evaluate_all(batch: int = 500) -> int:
    """The periodic job: evaluate every member below TL3 (time alone moves the account
    age and the recent window). Commits per batch; returns how many were promoted."""
    promoted = 0
    below_top = (User.trust_level < max(EARNED_LEVELS), User.role == "member")
    for ids in id_batches(User.id, *below_top, size=batch):
        for user_id in ids:
            user = db.session.get(User, user_id)
            before = int(user.trust_level or 0)
            if evaluate(user) > before:
                promoted += 1
        db.session.commit()
    return promoted


def grant(actor: User, user: User, level, reason) -> TrustChange | None:
    """A moderator sets ``user``'s level (0-4) with a reason; the audit log records it.
    Raises Forbidden (not staff, or a moderator changing staff), ValidationFailed."""
    if not can_moderate(actor):
        raise Forbidden("Only moderators can change trust levels.")
    if can_moderate(user) and not is_admin(actor):
        raise Forbidden("Only admins can change a moderator's trust level.")
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVEL_NAMES:
        raise field_error("level", "Choose a trust level from 0 to 4.")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 300:
        raise field_error("reason", "Give a reason (at most 300 characters).")
    if level == int(user.trust_level or 0):
        return None
    old = int(user.trust_level or 0)
    _move(user, level, reason=reason, actor=actor, granted=True)
    moderation.record(actor, "user.trust_level", "user", user.id, old=old, new=level, reason=reason)
    return db.session.scalars(
        select(TrustChange)
        .where(TrustChange.user_id == user.id)
        .order_by(TrustChange.id.desc())
        .limit(1)
    ).first()


def history(user_id: int, limit: int = 20) -> list[TrustChange]:
    return list(
        db.session.scalars(
            select(TrustChange)
            .where(TrustChange.user_id == user_id)
            .order_by(TrustChange.id.desc())
            .limit(limit)
        )
    )
