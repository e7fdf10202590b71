"""Community health: figures over a date range, each ONE aggregate statement.

Every figure is computed by the database (GROUP BY, window functions) over the other
features' tables, reached only through their service fronts (``board.posts_between``,
``shop.purchases_between``); Python only fills the days that had nothing.

**Active** means: on that day the member wrote a post or a reply that is not deleted,
or placed an order that was paid for (paid, shipped, completed). Reading does not
count (page views are attribution's, and anonymous). DAU is per day; WAU and MAU are
the distinct members active in the 7 and 30 days ending with the range's last day.

**First-week activation**: of the members who registered in the range, those who
opened a thread ("posted"), replied, or bought within 7 days (168 hours) of signing up.

**Retention cohorts**: members grouped by the week of the range they registered in
(week 0 starts on the range's first day); the share of a cohort active in its N-th
week after signing up (N counted from each member's own sign-up moment), for the
weeks that have fully or partly happened by the range's end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Float, Integer, case, cast, distinct, func, literal, select, union_all

from ...accounts import service as accounts
from ...board import service as board
from ...clock import now
from ...errors import ValidationFailed
from ...extensions import db
from ...shop_embed import service as shop
from . import participation, period

MAX_DAYS = period.MAX_DAYS
DEFAULT_DAYS = 30
WEEK_SECONDS = 7 * 86400
TOP_CONTRIBUTORS = 10
ACTIVE_DEFINITION = (
    "A member is active on a day when they wrote a post or reply (not deleted) or "
    "placed an order that was paid for. WAU and MAU count members active in the 7 and "
    "30 days ending with the last day of the range."
)


def parse_range(raw_from: str | None, raw_to: str | None, today: date) -> tuple[date, date]:
    """The inclusive day range asked for; the last 30 days up to ``today`` by default."""
    return period.parse_days(
        raw_from,
        raw_to,
        today=today,
        default_start=lambda last: last - timedelta(days=DEFAULT_DAYS - 1),
        error=ValidationFailed,
        message="The date range is not valid.",
    )


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _seconds(later, earlier):
    """``later - earlier`` in seconds, as SQL (PostgreSQL's epoch, SQLite's julianday)."""
    if _postgres():
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _whole(value):
    """floor(value) for non-negative values, as an SQL integer."""
    if _postgres():
        return cast(func.floor(value), Integer)
    return cast(value, Integer)


def _day(column):
    return func.date(column)


def _day_key(value) -> str:
    return str(value)[:10]


def _days(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def _activity(start: datetime, end: datetime):
    """Who did something when: live posts and bought orders in [start, end)."""
    posts = board.posts_between(start, end).subquery()
    orders = shop.purchases_between(start, end).subquery()
    return union_all(
        select(posts.c.author_id.label("user_id"), posts.c.created_at.label("at")),
        select(orders.c.buyer_id.label("user_id"), orders.c.created_at.label("at")),
    ).subquery()


def _members():
    """Every account as a subquery: ``user_id``, ``username``, ``created_at``."""
    return accounts.members_sql().subquery()


def _distinct_active(start: datetime, end: datetime) -> int:
    activity = _activity(start, end)
    return db.session.scalar(select(func.count(distinct(activity.c.user_id)))) or 0


def active_members(start: date, end: date) -> dict:
    lower, upper = period.bounds(start, end)
    activity = _activity(lower, upper)
    day = _day(activity.c.at)
    rows = db.session.execute(
        select(day, func.count(distinct(activity.c.user_id))).group_by(day)
    ).all()
    counts = {_day_key(d): n for d, n in rows}
    series = [{"day": d, "members": counts.get(d, 0)} for d in _days(start, end)]
    return {
        "days": series,
        "wau": _distinct_active(upper - timedelta(days=7), upper),
        "mau": _distinct_active(upper - timedelta(days=30), upper),
        "definition": ACTIVE_DEFINITION,
    }


def new_members(start: date, end: date) -> dict:
    users = _members()
    lower, upper = period.bounds(start, end)
    day = _day(users.c.created_at)
    rows = db.session.execute(
        select(day, func.count(users.c.user_id))
        .where(users.c.created_at >= lower, users.c.created_at < upper)
        .group_by(day)
    ).all()
    counts = {_day_key(d): n for d, n in rows}
    # Activation looks up to a week past the range so late sign-ups get their week.
    posts = board.posts_between(lower, upper + timedelta(days=7)).subquery()
    orders = shop.purchases_between(lower, upper + timedelta(days=7)).subquery()

    def within_week(sub, who, replies: bool | None = None):
        delay = _seconds(sub.c.created_at, users.c.created_at)
        where = [who == users.c.user_id, delay >= 0, delay < WEEK_SECONDS]
        if replies is not None:
            where.append(sub.c.is_reply.is_(replies))
        return case((select(literal(1)).where(*where).exists(), 1), else_=0)

    posted = within_week(posts, posts.c.author_id, replies=False)
    replied = within_week(posts, posts.c.author_id, replies=True)
    bought = within_week(orders, orders.c.buyer_id)
    total, n_posted, n_replied, n_bought, n_any = db.session.execute(
        select(
            func.count(users.c.user_id),
            func.coalesce(func.sum(posted), 0),
            func.coalesce(func.sum(replied), 0),
            func.coalesce(func.sum(bought), 0),
            func.coalesce(func.sum(case(((posted + replied + bought) > 0, 1), else_=0)), 0),
        ).where(users.c.created_at >= lower, users.c.created_at < upper)
    ).one()
    return {
        "days": [{"day": d, "members": counts.get(d, 0)} for d in _days(start, end)],
        "total": total,
        "activation": {
            "posted": int(n_posted),
            "replied": int(n_replied),
            "bought": int(n_bought),
            "any": int(n_any),
            "share": round(int(n_any) / total, 4) if total else 0.0,
        },
    }


def posting(start: date, end: date) -> dict:
    lower, upper = period.bounds(start, end)
    posts = board.posts_between(lower, upper).subquery()
    day = _day(posts.c.created_at)
    rows = db.session.execute(
        select(
            day,
            func.sum(case((posts.c.is_reply, 0), else_=1)),
            func.sum(case((posts.c.is_reply, 1), else_=0)),
        ).group_by(day)
    ).all()
    counts = {_day_key(d): (int(t), int(r)) for d, t, r in rows}
    return {
        "days": [
            {"day": d, "threads": counts.get(d, (0, 0))[0], "replies": counts.get(d, (0, 0))[1]}
            for d in _days(start, end)
        ]
    }


def replies(start: date, end: date) -> dict:
    """Threads started in the range: how many got a reply, and the median wait for it."""
    lower, upper = period.bounds(start, end)
    threads = board.first_replies(lower, upper).subquery()
    total, answered = db.session.execute(
        select(func.count(threads.c.thread_id), func.count(threads.c.first_reply_at))
    ).one()
    delay = _seconds(threads.c.first_reply_at, threads.c.started_at)
    ranked = (
        select(
            cast(delay, Float).label("wait"),
            func.row_number().over(order_by=delay).label("rank"),
            func.count().over().label("n"),
        )
        .where(threads.c.first_reply_at.is_not(None))
        .subquery()
    )
    median = db.session.scalar(
        select(func.avg(ranked.c.wait)).where(
            ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
        )
    )
    return {
        "threads": total,
        "answered": answered,
        "answered_share": round(answered / total, 4) if total else 0.0,
        "median_first_reply_minutes": round(float(median) / 60, 1) if median is not None else None,
    }


def retention(start: date, end: date) -> dict:
    """Week-N retention of the members who registered in the range, by sign-up week."""
    users = _members()
    lower, upper = period.bounds(start, end)
    activity = _activity(lower, upper)
    cohort = _whole(
        _seconds(users.c.created_at, literal(lower, users.c.created_at.type)) / WEEK_SECONDS
    )
    week = _whole(_seconds(activity.c.at, users.c.created_at) / WEEK_SECONDS)
    in_range = (users.c.created_at >= lower, users.c.created_at < upper)
    sizes: dict[int, int] = {
        int(index): size
        for index, size in db.session.execute(
            select(cohort.label("cohort"), func.count(users.c.user_id))
            .where(*in_range)
            .group_by("cohort")
        ).all()
    }
    cells = db.session.execute(
        select(cohort.label("cohort"), week.label("week"), func.count(distinct(users.c.user_id)))
        .join(activity, activity.c.user_id == users.c.user_id)
        .where(*in_range, activity.c.at >= users.c.created_at)
        .group_by("cohort", "week")
    ).all()
    active = {(int(c), int(w)): n for c, w, n in cells}
    span = (end - start).days + 1
    cohorts = []
    for index in sorted(sizes):
        size = sizes[index]
        weeks_seen = max(1, -(-(span - 7 * index) // 7))
        shares = [
            {
                "week": n,
                "members": active.get((index, n), 0),
                "share": round(active.get((index, n), 0) / size, 4),
            }
            for n in range(weeks_seen)
        ]
        cohorts.append(
            {
                "week_start": (start + timedelta(days=7 * index)).isoformat(),
                "members": size,
                "weeks": shares,
            }
        )
    return {"cohorts": cohorts}


def top_contributors(start: date, end: date) -> list[dict]:
    users = _members()
    lower, upper = period.bounds(start, end)
    posts = board.posts_between(lower, upper).subquery()
    count = func.count().label("posts")
    rows = db.session.execute(
        select(
            users.c.user_id, users.c.username, count, func.sum(case((posts.c.is_reply, 1), else_=0))
        )
        .join(posts, posts.c.author_id == users.c.user_id)
        .group_by(users.c.user_id, users.c.username)
        .order_by(count.desc(), users.c.user_id)
        .limit(TOP_CONTRIBUTORS)
    ).all()
    return [
        {"user_id": uid, "username": name, "posts": n, "replies": int(r)}
        for uid, name, n, r in rows
    ]


def community_health(start: date, end: date) -> dict:
    """Every health figure for the inclusive day range [start, end]."""
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "active": active_members(start, end),
        "new_members": new_members(start, end),
        "posting": posting(start, end),
        "replies": replies(start, end),
        "retention": retention(start, end),
        "top_contributors": top_contributors(start, end),
        "funnel": participation.funnel(start, end),
        "chat": participation.chat_activity(start, end),
        "events": participation.event_attendance(start, end),
    }


def report(raw_from: str | None, raw_to: str | None) -> dict:
    """The health figures for the range the query string asks for (422 when malformed)."""
    start, end = parse_range(raw_from, raw_to, now().date())
    return community_health(start, end)
