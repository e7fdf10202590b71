"""Community health, continued: the member funnel, chat activity, event attendance.

Each figure is one aggregate statement (or one per tier) over the other features'
tables, reached through their service fronts (``members.tiers_reached_sql``,
``chat.messages_between``, ``events.attendance_sql``); Python only accumulates and fills
the weeks and days that had nothing. None needs materialising: each is a range scan on
an indexed time (chat messages by ``created_at``, events by ``starts_at``) or a
GROUP BY over the tier history, which has a row per tier move, not per visit.

**Funnel**: at the end of each week of the range (week 0 starts on its first day, the
last may be short), how many accounts existed (registered), how many had ever reached
shopper or above (shoppers) and VIP; a member later demoted still counts as reached.

**Events**: those that started in the range and were not cancelled. Signed up: confirmed
sign-ups; attended: marked attended or checked in; no-show: marked no-show. The
attendance rate is attended / signed up; the no-show rate is no-shows / (attended +
no-shows), the sign-ups the host marked (unmarked ones are neither).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Integer, case, cast, distinct, func, literal, or_, select

from ...chat import service as chat
from ...events import service as events
from ...extensions import db
from ...members import service as members
from . import (
    health,  # its SQL helpers (health also imports this module: use at call time)
    period,
)

TIER_LEVELS = {"shoppers": ("shopper", "vip"), "vips": ("vip",)}
EVENTS_LISTED = 50


def _weeks(start: date, end: date) -> list[date]:
    return [start + timedelta(days=7 * n) for n in range(-(-((end - start).days + 1) // 7))]


def _cumulative(first_seen, lower, upper, weeks: int) -> list[int]:
    """How many of ``first_seen`` (a subquery with column ``at``) fell before the end of
    each week: one GROUP BY on the week index (-1: before the range)."""
    week = case(
        (first_seen.c.at < lower, -1),
        else_=health._whole(
            health._seconds(first_seen.c.at, literal(lower, first_seen.c.at.type))
            / health.WEEK_SECONDS
        ),
    )
    rows = db.session.execute(
        select(week.label("week"), func.count()).where(first_seen.c.at < upper).group_by("week")
    ).all()
    per_week = {int(w): n for w, n in rows}
    running = per_week.get(-1, 0)
    totals = []
    for n in range(weeks):
        running += per_week.get(n, 0)
        totals.append(running)
    return totals


def funnel(start: date, end: date) -> dict:
    lower, upper = period.bounds(start, end)
    weeks = _weeks(start, end)
    users = health._members()
    registered = select(users.c.created_at.label("at")).subquery()
    reached = members.tiers_reached_sql().subquery()
    series = {"registered": _cumulative(registered, lower, upper, len(weeks))}
    for name, tiers in TIER_LEVELS.items():
        first = (
            select(func.min(reached.c.at).label("at"))
            .where(reached.c.tier.in_(tiers))
            .group_by(reached.c.user_id)
            .subquery()
        )
        series[name] = _cumulative(first, lower, upper, len(weeks))
    rows = [
        {
            "week_start": week.isoformat(),
            "registered": series["registered"][n],
            "shoppers": series["shoppers"][n],
            "vips": series["vips"][n],
        }
        for n, week in enumerate(weeks)
    ]
    everyone, shoppers, vips = (series[name][-1] for name in ("registered", "shoppers", "vips"))
    return {
        "weeks": rows,
        "shopper_share": round(shoppers / everyone, 4) if everyone else 0.0,
        "vip_share": round(vips / shoppers, 4) if shoppers else 0.0,
    }


def chat_activity(start: date, end: date) -> dict:
    lower, upper = period.bounds(start, end)
    said = chat.messages_between(lower, upper).subquery()
    day = health._day(said.c.created_at)
    public = case((said.c.room_kind == "public", 1), else_=0)
    rows = db.session.execute(
        select(
            day, func.count(), func.count(distinct(said.c.author_id)), func.sum(public)
        ).group_by(day)
    ).all()
    counts = {health._day_key(d): (n, who, int(pub or 0)) for d, n, who, pub in rows}
    total, chatters = db.session.execute(
        select(func.count(), func.count(distinct(said.c.author_id)))
    ).one()
    return {
        "days": [
            {
                "day": d,
                "messages": counts.get(d, (0, 0, 0))[0],
                "chatters": counts.get(d, (0, 0, 0))[1],
                "public_messages": counts.get(d, (0, 0, 0))[2],
            }
            for d in health._days(start, end)
        ],
        "messages": total,
        "chatters": chatters,
    }


def event_attendance(start: date, end: date) -> dict:
    lower, upper = period.bounds(start, end)
    rows = events.attendance_sql(lower, upper).subquery()
    confirmed = rows.c.status == "confirmed"
    attended = or_(rows.c.attendance == "attended", rows.c.checked_in_at.is_not(None))
    no_show = rows.c.attendance == "no_show"

    def count(condition):
        return func.coalesce(func.sum(cast(case((condition, 1), else_=0), Integer)), 0)

    figures = (count(confirmed), count(attended), count(no_show & ~attended))
    per_event = db.session.execute(
        select(rows.c.event_id, rows.c.title, rows.c.starts_at, *figures)
        .group_by(rows.c.event_id, rows.c.title, rows.c.starts_at)
        .order_by(rows.c.starts_at, rows.c.event_id)
        .limit(EVENTS_LISTED)
    ).all()
    held, signed, came, missed = db.session.execute(
        select(func.count(distinct(rows.c.event_id)), *figures)
    ).one()
    signed, came, missed = int(signed), int(came), int(missed)
    return {
        "events": held,
        "signed_up": signed,
        "attended": came,
        "no_shows": missed,
        "attendance_rate": round(came / signed, 4) if signed else 0.0,
        "no_show_rate": round(missed / (came + missed), 4) if came + missed else 0.0,
        "by_event": [
            {
                "event_id": event_id,
                "title": title,
                "starts_at": starts_at.isoformat(),
                "signed_up": int(s),
                "attended": int(a),
                "no_shows": int(m),
            }
            for event_id, title, starts_at, s, a, m in per_event
        ],
    }
