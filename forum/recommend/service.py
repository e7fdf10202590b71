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
- **deals** (shown among the offers): live snap-ups and group-buys, Dutch auctions
  running or upcoming and open guessing games, learnt from who took part (2: joined,
  bought a unit, guessed) and clicked their cards (1) together with the product
  purchases and clicks above, so a grinder's buyers are offered the beans group-buy;
  never one ended, sold out (snap-up or auction units, the product's stock), outside the
  member's tier (the deal's audience and its product's), one they took part in, one on a
  product they bought, nor a game whose guess costs more points than they have;
- **events**: upcoming events open for sign-up and not full, by co-attendance;
- **rooms**: public rooms only (a private or direct room is never suggested to anyone),
  by co-membership, never one the member is already in;
- **suggested threads** under each thread: the threads its readers also read, then
  more from its category.

Each suggestion carries its reason. A member with no history yet (or who joined after
the last run) gets the ``POPULAR`` lists: popular this week, open to every tier. A member
with history gets only their own lists, whose popular fill passed the same exclusions
as the rest (``Catalogue.allowed_for``, the one place the rules live): a list they have
exhausted stays empty rather than falling back to the unfiltered popular one.
Serving (``for_member``, ``suggested_for``) drops threads whose category the viewer may
no longer read; anything else is as fresh as the last run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

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
from ..promotions import service as promotions
from ..shop_embed import service as shop
from . import model
from .models import KINDS, POPULAR, Recommendation

PER_KIND = {"thread": 6, "offer": 4, "deal": 3, "event": 3, "room": 3}
#: Row kinds served in another kind's list (deals among the offers) ...
LIST_OF = {kind: "offer" for kind in promotions.DEAL_KINDS}
#: ... and computed as one list.
LIST_GROUP = {kind: "deal" for kind in promotions.DEAL_KINDS}
DEAL_WORDS = {
    "snap": "snap-up",
    "groupbuy": "group-buy",
    "auction": "auction",
    "guess": "guessing game",
}
#: How a member who took part in a deal of that kind says it ("you joined the ...").
TOOK_PART = {"snap": "joined", "groupbuy": "joined", "auction": "bought at", "guess": "played"}
#: Why, when the member bought the product through an order of that kind.
BOUGHT_VIA = {
    "groupbuy": "joined the {name} group-buy",
    "snap": "joined the {name} snap-up",
    "auction": "bought {name} at auction",
    "guess": "won {name} in a guessing game",
}
SUGGESTED = 5
WEEK = timedelta(days=7)
POPULAR_REASON = "Popular this week"


def _always(_item: Any) -> bool:
    return True


@dataclass
class Catalogue:
    """One kind of recommendation: what may be recommended now (``titles``), what members
    did with it (``learnt``), what is popular, and the kind's rules: ``allowed_for(user)``
    (what that member may be shown), ``open_to_all`` (what the popular list may hold),
    ``reason(pick, user_id)`` and the row's ``category`` / ``slug``."""

    kind: str
    titles: dict[Any, str]
    learnt: model.CoOccurrence
    popular: list[Any]
    reason: Callable[[model.Pick, int | None], str]
    allowed_for: Callable[[User], Callable[[Any], bool]] = lambda _user: _always
    open_to_all: Callable[[Any], bool] = _always
    category: Callable[[Any], int | None] = lambda _item: None
    slug: Callable[[Any], str | None] = lambda _item: None
    groups: dict[Any, Any] | None = None
    popularity: dict[Any, float] | None = None
    skip_seen: bool = True
    #: A row's kind and target for an item (deals: ("snap", 7) is kind "snap", id 7).
    row_kind: Callable[[Any], str] | None = None
    target: Callable[[Any], int] = lambda item: item

    def rows(self, subject: str, picks: list[model.Pick], user_id: int | None, at) -> list[dict]:
        return [
            {
                "subject": subject,
                "kind": self.row_kind(pick.item) if self.row_kind else self.kind,
                "rank": rank,
                "target_id": self.target(pick.item),
                "title": self.titles[pick.item][:200],
                "reason": self.reason(pick, user_id)[:240],
                "category_id": self.category(pick.item),
                "slug": self.slug(pick.item),
                "score": round(float(pick.score), 6),
                "computed_at": at,
            }
            for rank, pick in enumerate(picks)
        ]

    def for_member(self, user: User) -> list[model.Pick]:
        return model.rank(
            self.learnt,
            user.id,
            k=PER_KIND[self.kind],
            allowed=self.allowed_for(user),
            popular=self.popular,
            groups=self.groups,
            popularity=self.popularity,
            skip_seen=self.skip_seen,
        )

    def for_everyone(self) -> list[model.Pick]:
        open_ones = [i for i in self.popular if i in self.titles and self.open_to_all(i)]
        return [model.Pick(item, 0.0) for item in open_ones[: PER_KIND[self.kind]]]


def _by_time(rows) -> list:
    return sorted(rows, key=lambda row: (row.at, row.user_id))


def _this_week(rows, at: datetime) -> list[tuple[int, int, float]]:
    return [(r[0], r[1], 1.0) for r in rows if r.at is not None and r.at >= at - WEEK]


def _popular(all_rows: list[tuple[Any, Any, float]], week: list[tuple[Any, Any, float]]):
    """This week's most engaged-with first, then all time's (so lists are never short)."""
    ranked = model.most_popular(week)
    seen = set(ranked)
    return ranked + [item for item in model.most_popular(all_rows) if item not in seen]


def _weekly_counts(week: list[tuple[int, int, float]]) -> dict[Any, float]:
    counts: dict[Any, float] = defaultdict(float)
    for _user, item, _weight in week:
        counts[item] += 1.0
    return counts


def _quoted(title: str) -> str:
    return f"\u201c{title}\u201d"


def _threads(at: datetime) -> tuple[dict, Catalogue]:
    threads = {row.thread_id: row for row in db.session.execute(board.recommendable_threads_sql())}
    rows = _by_time(db.session.execute(board.thread_engagement_sql(before=at)).all())
    rows = [row for row in rows if row.thread_id in threads]
    interactions = [(r.user_id, r.thread_id, float(r.weight)) for r in rows]
    week = _this_week(rows, at)
    learnt = model.CoOccurrence(interactions)
    restricted = set(board.hidden_category_ids(None))

    def allowed_for(user: User) -> Callable[[Any], bool]:
        hidden = set(board.hidden_category_ids(user)) if restricted else set()
        return lambda t: t in threads and threads[t].category_id not in hidden

    def reason(pick: model.Pick, user_id: int | None) -> str:
        if pick.because is not None and user_id is not None:
            wrote = learnt.items_of(user_id).get(pick.because, 0) >= board.REPLY_WEIGHT
            verb = "replied in" if wrote else "read"
            return f"Because you {verb} {_quoted(threads[pick.because].title)}"
        if pick.group is not None:
            return f"New in {threads[pick.item].category}, which you read"
        return POPULAR_REASON

    return threads, Catalogue(
        kind="thread",
        titles={tid: row.title for tid, row in threads.items()},
        learnt=learnt,
        popular=_popular(interactions, week),
        reason=reason,
        allowed_for=allowed_for,
        open_to_all=lambda t: threads[t].category_id not in restricted,
        category=lambda t: threads[t].category_id,
        groups={tid: row.category_id for tid, row in threads.items()},
        popularity=_weekly_counts(week),
    )


def _offers(at: datetime) -> Catalogue:
    products = {row.product_id: row for row in db.session.execute(shop.offerable_products_sql())}
    left = shop.available_stock(products)
    on_sale = {pid: row for pid, row in products.items() if left.get(pid, 0) > 0}
    bought = db.session.execute(shop.purchased_products_sql(before=at)).all()
    clicks = db.session.execute(attribution.product_clicks_sql(before=at)).all()
    interactions = [(r.user_id, r.product_id, 1.0) for r in _by_time(clicks)]
    interactions += [(r.user_id, r.product_id, 2.0) for r in _by_time(bought)]
    week = _this_week(bought, at) + _this_week(clicks, at)
    names = {r.product_id: r.name for r in db.session.execute(shop.product_names_sql())}
    order_kinds = {(r.user_id, r.product_id): r.order_kind for r in bought}
    bought_by: dict[int, set[int]] = defaultdict(set)
    for uid, pid in order_kinds:
        bought_by[uid].add(pid)

    def allowed_for(user: User) -> Callable[[Any], bool]:
        mine, tier = bought_by.get(user.id, set()), user.tier or "registered"
        return lambda p: p in on_sale and p not in mine and members.meets(tier, on_sale[p].audience)

    def reason(pick: model.Pick, user_id: int | None) -> str:
        if pick.because is None:
            return POPULAR_REASON
        name = names.get(pick.because, "something")
        kind = order_kinds.get((user_id, pick.because))
        if kind == "snap":
            return f"Because you snapped up {name}"
        if kind in BOUGHT_VIA:
            return "Because you " + BOUGHT_VIA[kind].format(name=name)
        if kind is not None:
            return f"Because you bought {name}"
        return f"Because you looked at {name}"

    return Catalogue(
        kind="offer",
        titles={pid: row.name for pid, row in on_sale.items()},
        learnt=model.CoOccurrence(interactions),
        popular=_popular(interactions, week),
        reason=reason,
        allowed_for=allowed_for,
        # Newcomers are "registered": the popular list holds what every tier may buy.
        open_to_all=lambda p: members.meets("registered", on_sale[p].audience),
        skip_seen=False,  # a product clicked but not bought may still be offered
    )


def _deals(at: datetime) -> Catalogue:
    """Live snap-ups and group-buys, items ``(kind, id)``, learnt together with the
    products (``("product", id)``, never recommended here) members bought and clicked."""
    live = {
        (row.kind, row.deal_id): row for row in db.session.execute(promotions.live_deals_sql(at))
    }
    products = {row.product_id: row for row in db.session.execute(shop.offerable_products_sql())}
    left = shop.available_stock({row.product_id for row in live.values()})
    on_sale = {
        key: row
        for key, row in live.items()
        if row.product_id in products and left.get(row.product_id, 0) > 0
    }
    took_part = db.session.execute(promotions.deal_participation_sql(before=at)).all()
    clicked = db.session.execute(
        attribution.deal_clicks_sql(promotions.DEAL_KINDS, before=at)
    ).all()
    bought = db.session.execute(shop.purchased_products_sql(before=at)).all()
    product_clicks = db.session.execute(attribution.product_clicks_sql(before=at)).all()
    interactions = [(r.user_id, ("product", r.product_id), 1.0) for r in _by_time(product_clicks)]
    interactions += [(r.user_id, ("product", r.product_id), 2.0) for r in _by_time(bought)]
    interactions += [(r.user_id, (r.kind, r.deal_id), 1.0) for r in _by_time(clicked)]
    interactions += [(r.user_id, (r.kind, r.deal_id), 2.0) for r in _by_time(took_part)]
    week = [
        (r.user_id, (r.kind, r.deal_id), 1.0)
        for r in (*took_part, *clicked)
        if r.at is not None and r.at >= at - WEEK
    ]
    taken: dict[int, set] = defaultdict(set)
    for r in took_part:
        taken[r.user_id].add((r.kind, r.deal_id))
    for r in bought:
        taken[r.user_id].add(("product", r.product_id))
    joined = {(r.user_id, (r.kind, r.deal_id)) for r in took_part}
    names = {r.product_id: r.name for r in db.session.execute(shop.product_names_sql())}
    order_kinds = {(r.user_id, r.product_id): r.order_kind for r in bought}

    points = _points_balances() if any(row.points for row in on_sale.values()) else {}

    def fits(tier: str, key) -> bool:
        row = on_sale[key]
        return members.meets(tier, row.audience) and members.meets(
            tier, products[row.product_id].audience
        )

    def allowed_for(user: User) -> Callable[[Any], bool]:
        mine, tier = taken.get(user.id, set()), user.tier or "registered"
        balance = points.get(user.id, 0)
        return lambda key: (
            key in on_sale
            and key not in mine
            and ("product", on_sale[key].product_id) not in mine
            and fits(tier, key)
            and on_sale[key].points <= balance
        )

    def reason(pick: model.Pick, user_id: int | None) -> str:
        if pick.because is None:
            return POPULAR_REASON
        because = cast(tuple[str, int], pick.because)  # deal catalogue items are pairs
        kind, ident = because
        if kind == "product":
            name = names.get(ident, "something")
            order_kind = order_kinds.get((user_id, ident))
            if order_kind in BOUGHT_VIA:
                return "Because you " + BOUGHT_VIA[order_kind].format(name=name)
            return f"Because you {'bought' if order_kind else 'looked at'} {name}"
        row = live.get(because)
        what = f"the {row.name} {DEAL_WORDS[kind]}" if row else f"a {DEAL_WORDS[kind]}"
        verb = TOOK_PART[kind] if (user_id, because) in joined else "looked at"
        return f"Because you {verb} {what}"

    return Catalogue(
        kind="deal",
        titles={key: f"{row.name} {DEAL_WORDS[key[0]]}" for key, row in on_sale.items()},
        learnt=model.CoOccurrence(interactions),
        popular=_popular(interactions, week),
        reason=reason,
        allowed_for=allowed_for,
        open_to_all=lambda key: key in on_sale and fits("registered", key),
        skip_seen=False,  # a card clicked but not taken part in may still be offered
        row_kind=lambda key: key[0],
        target=lambda key: key[1],
    )


def _points_balances() -> dict[int, int]:
    """Every member's points balance that is not nothing (a guess costs points)."""
    balance = members.points_sql(User.id)
    return {
        int(user_id): int(points)
        for user_id, points in db.session.execute(select(User.id, balance).where(balance > 0))
    }


def _events(at: datetime) -> Catalogue:
    upcoming = {
        row.event_id: row.title for row in db.session.execute(events.upcoming_events_sql(at))
    }
    rows = _by_time(db.session.execute(events.signups_sql(before=at)).all())
    interactions = [(r.user_id, r.event_id, 1.0) for r in rows]
    names = {r.event_id: r.title for r in db.session.execute(events.event_titles_sql())}

    def reason(pick: model.Pick, _user_id: int | None) -> str:
        if pick.because is None:
            return POPULAR_REASON
        title = _quoted(names.get(pick.because, "an event"))
        return f"Members who signed up for {title} are going"

    return Catalogue(
        kind="event",
        titles=upcoming,
        learnt=model.CoOccurrence(interactions),
        popular=_popular(interactions, _this_week(rows, at)),
        reason=reason,
        allowed_for=lambda _user: lambda e: e in upcoming,
    )


def _rooms(at: datetime) -> Catalogue:
    rooms = {row.room_id: row for row in db.session.execute(chat.public_rooms_sql())}
    rows = db.session.execute(chat.public_room_engagement_sql(before=at)).all()
    interactions = [(r.user_id, r.room_id, 1.0 + min(int(r.messages), 20) / 10) for r in rows]

    def reason(pick: model.Pick, _user_id: int | None) -> str:
        if pick.because is None:
            return "Popular room"
        return f"Members of {rooms[pick.because].name} chat here too"

    return Catalogue(
        kind="room",
        titles={rid: row.name for rid, row in rooms.items()},
        learnt=model.CoOccurrence(interactions),
        popular=model.most_popular(interactions),
        reason=reason,
        allowed_for=lambda _user: lambda r: r in rooms,  # public rooms only, ever
        slug=lambda r: rooms[r].slug,
    )


def recompute(at: datetime | None = None) -> int:
    """Replace every list (members', thread pages', the popular ones) with fresh ones
    computed from what happened before ``at`` (now), in the caller's transaction.
    Returns how many rows it wrote."""
    at = at or now()
    threads, thread_catalogue = _threads(at)
    catalogues = [thread_catalogue, _offers(at), _deals(at), _events(at), _rooms(at)]
    rows: list[dict] = []
    for catalogue in catalogues:
        rows += catalogue.rows(POPULAR, catalogue.for_everyone(), None, at)
    engaged: set[Any] = set()
    for catalogue in catalogues:
        engaged.update(catalogue.learnt.by_user)
    for user in _members(engaged):
        for catalogue in catalogues:
            rows += catalogue.rows(f"user:{user.id}", catalogue.for_member(user), user.id, at)
    rows += _suggested_rows(threads, thread_catalogue, at)
    db.session.execute(delete(Recommendation))
    if rows:
        db.session.execute(insert(Recommendation), rows)
    return len(rows)


def _members(ids: Iterable[Any]) -> list[User]:
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
                {
                    "subject": f"thread:{tid}",
                    "kind": "thread",
                    "rank": rank,
                    "target_id": other,
                    "title": row.title[:200],
                    "reason": reason,
                    "category_id": row.category_id,
                    "slug": None,
                    "score": round(float(score), 6),
                    "computed_at": at,
                }
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
    # A member the last run knew has lists of their own, each already filled from what is
    # popular within their own exclusions (``model.rank`` with ``allowed_for``): a list
    # left empty stays empty, never topped up with the unfiltered popular one (which
    # could hold the deal they joined or the product they bought).
    own = any(row.subject != POPULAR for row in rows)
    lists: dict[str, list[Recommendation]] = {kind: [] for kind in KINDS}
    for row in rows:
        if (row.subject == POPULAR) != own:
            lists[LIST_OF.get(row.kind, row.kind)].append(row)
    # Products first, then the deals, each in their computed order.
    lists["offer"].sort(key=lambda row: (row.kind in LIST_GROUP, row.rank))
    return {
        "personal": own,
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
