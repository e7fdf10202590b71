"""Recommendations: computed for everyone by a periodic job, served by one indexed read.

``recompute(at)`` (the Celery task ``recommend.recompute``) reads who engaged with what
through the other features' service fronts, trains ``model.CoOccurrence`` per kind, and
replaces the whole ``recommendations`` table in one transaction (a run that fails
leaves the previous lists; a doubled run writes the same lists):

- **threads**: what a member read (weight 1) and replied in (3); similar members' reads
  (co-occurrence), the categories they read (affinity), then what is popular this week;
  never a thread in a category they may not read, nor one they have already seen;
- **offers**: products from purchases (2) and clicks (1), item-to-item; never one the
  member bought, one sold out (no stock available), inactive or archived, nor one whose
  audience their tier does not meet;
- **events**: upcoming events open for sign-up and not full, by co-attendance;
- **rooms**: public rooms only (a private or direct room is never suggested to anyone),
  by co-membership, never one the member is already in;
- **suggested threads** under each thread: the threads its readers also read, then
  more from its category.

Each suggestion carries its reason. A member with no history yet (or who joined after
the last run) gets the ``POPULAR`` lists: popular this week, open to every tier.
Serving (``for_member``, ``suggested_for``) drops threads whose category the viewer may
no longer read; anything else is as fresh as the last run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select

from ..accounts.models import User
from ..attribution import service as attribution
from ..board import service as board
from ..chat import service as chat
from ..clock import now
from ..events import service as events
from ..extensions import db
from ..members import service as members
from ..permissions import is_member
from ..shop_embed import service as shop
from . import model
from .models import KINDS, POPULAR, Recommendation

PER_KIND = {"thread": 6, "offer": 4, "event": 3, "room": 3}
SUGGESTED = 5
WEEK = timedelta(days=7)
POPULAR_REASON = {
    "thread": "Popular this week",
    "offer": "Popular this week",
    "event": "Popular this week",
    "room": "Popular this week",
}


@dataclass
class Catalogue:
    """What can be recommended of one kind, what members did with it, and how to say why."""

    kind: str
    titles: dict[int, str]
    learnt: model.CoOccurrence
    popular: list[Any]
    groups: dict[Any, Any] | None = None
    popularity: dict[Any, float] | None = None


def _by_time(rows) -> list:
    return sorted(rows, key=lambda row: (row.at, row.user_id))


def _this_week(rows, at: datetime) -> list[tuple[int, int, float]]:
    return [(r[0], r[1], 1.0) for r in rows if r.at is not None and r.at >= at - WEEK]


def _popular(all_rows: list[tuple[int, int, float]], week: list[tuple[int, int, float]]):
    """This week's most engaged-with first, then all time's (so lists are never short)."""
    ranked = model.most_popular(week)
    seen = set(ranked)
    return ranked + [item for item in model.most_popular(all_rows) if item not in seen]


def _weekly_counts(week: list[tuple[int, int, float]]) -> dict[int, float]:
    counts: dict[int, float] = defaultdict(float)
    for _user, item, _weight in week:
        counts[item] += 1.0
    return counts


def _thread_catalogue(at: datetime):
    threads = {row.thread_id: row for row in db.session.execute(board.recommendable_threads_sql())}
    rows = _by_time(db.session.execute(board.thread_engagement_sql(before=at)).all())
    rows = [row for row in rows if row.thread_id in threads]
    interactions = [(r.user_id, r.thread_id, float(r.weight)) for r in rows]
    week = _this_week(rows, at)
    return threads, Catalogue(
        kind="thread",
        titles={tid: row.title for tid, row in threads.items()},
        learnt=model.CoOccurrence(interactions),
        popular=_popular(interactions, week),
        groups={tid: row.category_id for tid, row in threads.items()},
        popularity=_weekly_counts(week),
    )


def _offer_catalogue(at: datetime):
    products = {row.product_id: row for row in db.session.execute(shop.offerable_products_sql())}
    left = shop.available_stock(products)
    on_sale = {pid: row for pid, row in products.items() if left.get(pid, 0) > 0}
    bought = db.session.execute(shop.purchased_products_sql(before=at)).all()
    clicks = db.session.execute(attribution.product_clicks_sql(before=at)).all()
    interactions = [(r.user_id, r.product_id, 1.0) for r in _by_time(clicks)]
    interactions += [(r.user_id, r.product_id, 2.0) for r in _by_time(bought)]
    week = _this_week(bought, at) + _this_week(clicks, at)
    names = {r.product_id: r.name for r in db.session.execute(shop.product_names_sql())}
    return (
        on_sale,
        {(r.user_id, r.product_id): r.order_kind for r in bought},
        names,
        Catalogue(
            kind="offer",
            titles={pid: row.name for pid, row in on_sale.items()},
            learnt=model.CoOccurrence(interactions),
            popular=_popular(interactions, week),
        ),
    )


def _event_catalogue(at: datetime):
    upcoming = {
        row.event_id: row.title for row in db.session.execute(events.upcoming_events_sql(at))
    }
    rows = _by_time(db.session.execute(events.signups_sql(before=at)).all())
    interactions = [(r.user_id, r.event_id, 1.0) for r in rows]
    names = {r.event_id: r.title for r in db.session.execute(events.event_titles_sql())}
    return names, Catalogue(
        kind="event",
        titles=upcoming,
        learnt=model.CoOccurrence(interactions),
        popular=_popular(interactions, _this_week(rows, at)),
    )


def _room_catalogue(at: datetime):
    rooms = {row.room_id: row for row in db.session.execute(chat.public_rooms_sql())}
    rows = db.session.execute(chat.public_room_engagement_sql(before=at)).all()
    interactions = [(r.user_id, r.room_id, 1.0 + min(int(r.messages), 20) / 10) for r in rows]
    return rooms, Catalogue(
        kind="room",
        titles={rid: row.name for rid, row in rooms.items()},
        learnt=model.CoOccurrence(interactions),
        popular=model.most_popular(interactions),
    )


def _row(subject, kind, rank, target, title, reason, at, score=0.0, category=None, slug=None):
    return {
        "subject": subject,
        "kind": kind,
        "rank": rank,
        "target_id": target,
        "title": title[:200],
        "reason": reason[:240],
        "category_id": category,
        "slug": slug,
        "score": round(float(score), 6),
        "computed_at": at,
    }


def _quoted(title: str) -> str:
    return f"\u201c{title}\u201d"


def recompute(at: datetime | None = None) -> int:
    """Replace every list (members', thread pages', the popular ones) with fresh ones
    computed from what happened before ``at`` (now). Returns how many rows it wrote."""
    at = at or now()
    threads, thread_cat = _thread_catalogue(at)
    products, order_kinds, product_names, offer_cat = _offer_catalogue(at)
    event_names, event_cat = _event_catalogue(at)
    rooms, room_cat = _room_catalogue(at)
    restricted = set(board.hidden_category_ids(None))
    bought_by: dict[int, set[int]] = defaultdict(set)
    for uid, pid in order_kinds:
        bought_by[uid].add(pid)
    rows: list[dict] = []

    def thread_reason(pick: model.Pick, user_items: dict) -> str:
        if pick.because is not None:
            verb = "replied in" if user_items.get(pick.because, 0) >= 3 else "read"
            return f"Because you {verb} {_quoted(thread_cat.titles.get(pick.because, 'a thread'))}"
        if pick.group is not None:
            return f"New in {threads[pick.item].category}, which you read"
        return POPULAR_REASON["thread"]

    def offer_reason(pick: model.Pick, user_id: int) -> str:
        if pick.because is None:
            return POPULAR_REASON["offer"]
        name = product_names.get(pick.because, "something")
        kind = order_kinds.get((user_id, pick.because))
        if kind == "groupbuy":
            return f"Because you joined the {name} group-buy"
        if kind == "snap":
            return f"Because you snapped up {name}"
        if kind is not None:
            return f"Because you bought {name}"
        return f"Because you looked at {name}"

    def event_reason(pick: model.Pick, _user_id: int) -> str:
        if pick.because is None:
            return POPULAR_REASON["event"]
        return f"Members who signed up for {_quoted(event_names.get(pick.because, 'an event'))} are going"

    def room_reason(pick: model.Pick, _user_id: int) -> str:
        if pick.because is None:
            return "Popular room"
        return f"Members of {rooms[pick.because].name} chat here too"

    # The lists for members without their own: open to every tier and every reader.
    for rank, tid in enumerate(
        [t for t in thread_cat.popular if threads[t].category_id not in restricted][
            : PER_KIND["thread"]
        ]
    ):
        row = threads[tid]
        rows.append(
            _row(
                POPULAR,
                "thread",
                rank,
                tid,
                row.title,
                POPULAR_REASON["thread"],
                at,
                category=row.category_id,
            )
        )
    open_offers = [
        p
        for p in offer_cat.popular
        if p in products and members.meets("registered", products[p].audience)
    ]
    for rank, pid in enumerate(open_offers[: PER_KIND["offer"]]):
        rows.append(
            _row(POPULAR, "offer", rank, pid, products[pid].name, POPULAR_REASON["offer"], at)
        )
    for rank, eid in enumerate(
        [e for e in event_cat.popular if e in event_cat.titles][: PER_KIND["event"]]
    ):
        rows.append(
            _row(POPULAR, "event", rank, eid, event_cat.titles[eid], POPULAR_REASON["event"], at)
        )
    for rank, rid in enumerate(room_cat.popular[: PER_KIND["room"]]):
        rows.append(
            _row(
                POPULAR,
                "room",
                rank,
                rid,
                rooms[rid].name,
                "Popular room",
                at,
                slug=rooms[rid].slug,
            )
        )

    engaged: set[int] = set()
    for catalogue in (thread_cat, offer_cat, event_cat, room_cat):
        engaged.update(catalogue.learnt.by_user)
    for user in _members(engaged):
        subject = f"user:{user.id}"
        hidden = set(board.hidden_category_ids(user)) if restricted else set()
        mine = thread_cat.learnt.items_of(user.id)

        def readable_thread(t: Any, hidden: set = hidden) -> bool:
            return t in threads and threads[t].category_id not in hidden

        picks = model.rank(
            thread_cat.learnt,
            user.id,
            k=PER_KIND["thread"],
            allowed=readable_thread,
            popular=thread_cat.popular,
            groups=thread_cat.groups,
            popularity=thread_cat.popularity,
        )
        for rank, pick in enumerate(picks):
            row = threads[pick.item]
            rows.append(
                _row(
                    subject,
                    "thread",
                    rank,
                    pick.item,
                    row.title,
                    thread_reason(pick, mine),
                    at,
                    pick.score,
                    row.category_id,
                )
            )
        bought = bought_by.get(user.id, set())
        tier = user.tier or "registered"

        def offerable(p: Any, bought: set = bought, tier: str = tier) -> bool:
            return p in products and p not in bought and members.meets(tier, products[p].audience)

        picks = model.rank(
            offer_cat.learnt,
            user.id,
            k=PER_KIND["offer"],
            allowed=offerable,
            popular=offer_cat.popular,
            skip_seen=False,
        )
        for rank, pick in enumerate(picks):
            rows.append(
                _row(
                    subject,
                    "offer",
                    rank,
                    pick.item,
                    products[pick.item].name,
                    offer_reason(pick, user.id),
                    at,
                    pick.score,
                )
            )
        picks = model.rank(
            event_cat.learnt,
            user.id,
            k=PER_KIND["event"],
            allowed=lambda e: e in event_cat.titles,
            popular=event_cat.popular,
        )
        for rank, pick in enumerate(picks):
            rows.append(
                _row(
                    subject,
                    "event",
                    rank,
                    pick.item,
                    event_cat.titles[pick.item],
                    event_reason(pick, user.id),
                    at,
                    pick.score,
                )
            )
        picks = model.rank(
            room_cat.learnt,
            user.id,
            k=PER_KIND["room"],
            allowed=lambda r: r in rooms,
            popular=room_cat.popular,
        )
        for rank, pick in enumerate(picks):
            room = rooms[pick.item]
            rows.append(
                _row(
                    subject,
                    "room",
                    rank,
                    pick.item,
                    room.name,
                    room_reason(pick, user.id),
                    at,
                    pick.score,
                    slug=room.slug,
                )
            )

    rows.extend(_suggested_rows(threads, thread_cat, at))
    db.session.execute(delete(Recommendation))
    if rows:
        db.session.execute(insert(Recommendation), rows)
    return len(rows)


def _members(ids: Iterable[int]) -> list[User]:
    wanted = sorted(set(ids))
    found: list[User] = []
    for start in range(0, len(wanted), 500):
        found += db.session.scalars(
            select(User).where(User.id.in_(wanted[start : start + 500]))
        ).all()
    return found


def _suggested_rows(threads: dict, catalogue: Catalogue, at: datetime) -> list[dict]:
    """Under each thread: what its readers also read, then its category's popular ones."""
    rows = []
    by_category: dict[int, list[int]] = defaultdict(list)
    for tid in catalogue.popular:
        by_category[threads[tid].category_id].append(tid)
    for tid, thread in threads.items():
        similar = sorted(
            (
                (other, score)
                for other, score in catalogue.learnt.similar(tid).items()
                if other in threads
            ),
            key=lambda pair: (-pair[1], pair[0]),
        )[:SUGGESTED]
        chosen: list[tuple[Any, float, str]] = [
            (other, score, "Readers of this thread also read it") for other, score in similar
        ]
        taken = {tid} | {other for other, _s, _r in chosen}
        for other in by_category[thread.category_id]:
            if len(chosen) >= SUGGESTED:
                break
            if other not in taken:
                chosen.append((other, 0.0, f"More in {thread.category}"))
                taken.add(other)
        for rank, (other, score, reason) in enumerate(chosen):
            row = threads[other]
            rows.append(
                _row(
                    f"thread:{tid}",
                    "thread",
                    rank,
                    other,
                    row.title,
                    reason,
                    at,
                    score,
                    row.category_id,
                )
            )
    return rows


def _readable_rows(query, viewer):
    return db.session.scalars(
        query.where(
            or_(
                Recommendation.category_id.is_(None),
                board.readable(Recommendation.category_id, viewer),
            )
        ).order_by(Recommendation.kind, Recommendation.rank)
    ).all()


def for_member(viewer) -> dict:
    """The member's lists by kind (their own, else popular this week), each item a
    Recommendation row, plus ``personal`` (False: the popular lists) and ``computed_at``."""
    subjects = [POPULAR] + ([f"user:{viewer.id}"] if is_member(viewer) else [])
    rows = _readable_rows(
        select(Recommendation).where(Recommendation.subject.in_(subjects)), viewer
    )
    own = {row.kind for row in rows if row.subject != POPULAR}
    lists: dict[str, list[Recommendation]] = {kind: [] for kind in KINDS}
    for row in rows:
        if (row.subject == POPULAR) != (row.kind in own):
            lists[row.kind].append(row)
    return {
        "personal": bool(own),
        "computed_at": max((row.computed_at for row in rows), default=None),
        **lists,
    }


def suggested_for(thread_id: int, viewer) -> list[Recommendation]:
    """Suggested threads under thread ``thread_id`` that ``viewer`` may read."""
    return list(
        _readable_rows(
            select(Recommendation).where(Recommendation.subject == f"thread:{thread_id}"), viewer
        )
    )
