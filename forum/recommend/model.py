"""The recommender itself: item-to-item co-occurrence over who engaged with what, in
plain Python over plain tuples, so the periodic job (``service.recompute``) and the
offline evaluation (``python -m tests.bench recommend``) run exactly the same model.

Given interactions ``(user, item, weight)``:

- two items are similar when the same members engaged with both: the cosine of their
  member sets, each member counting ``1 / log2(2 + n)`` where ``n`` is how many items
  they touched (someone who reads everything says little about any two threads);
- a member's score for an unseen item is the sum, over the items they engaged with, of
  their weight on it times its similarity to the candidate; the item that contributed
  most is the reason ("because you read ..."); where what they engaged with may be shown
  again (offers: clicked, not bought), it counts as fully similar to itself;
- ``groups`` (a thread's category) add the member's share of engagement in the
  candidate's group times the candidate's popularity, so a fresh thread in a category
  they read can surface before anyone co-read it;
- what is left of the ``k`` places is filled by popularity (what is popular this week),
  which is also everything a newcomer gets.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

#: How much the member's group affinity counts against co-occurrence (both in [0, 1]).
GROUP_WEIGHT = 0.35
#: A member's most recent items that take part (bounds the pair count per member).
MAX_ITEMS_PER_MEMBER = 60

Item = Hashable


@dataclass(frozen=True)
class Pick:
    """One recommended item: its score, and why (``because`` an item of the member's,
    ``group`` when it came from the group affinity, neither when from popularity)."""

    item: Item
    score: float
    because: Item | None = None
    group: Hashable | None = None


class CoOccurrence:
    """Item-to-item similarities learnt from ``(user, item, weight)`` interactions."""

    def __init__(self, interactions: Iterable[tuple[Hashable, Item, float]]):
        by_user: dict[Hashable, dict[Item, float]] = defaultdict(dict)
        for user, item, weight in interactions:
            known = by_user[user].get(item, 0.0)
            by_user[user][item] = max(known, float(weight))
        self.by_user = dict(by_user)
        self.norm: dict[Item, float] = defaultdict(float)
        pairs: dict[Item, dict[Item, float]] = defaultdict(lambda: defaultdict(float))
        for items in self.by_user.values():
            chosen = list(items)[-MAX_ITEMS_PER_MEMBER:]
            damp = 1.0 / math.log2(2 + len(chosen))
            for item in chosen:
                self.norm[item] += damp
            for n, a in enumerate(chosen):
                for b in chosen[n + 1 :]:
                    pairs[a][b] += damp
                    pairs[b][a] += damp
        self.pairs = pairs

    def similar(self, item: Item) -> dict[Item, float]:
        """Items sharing members with ``item``, by cosine similarity."""
        mine = self.norm.get(item, 0.0)
        return {
            other: shared / math.sqrt(mine * self.norm[other])
            for other, shared in self.pairs.get(item, {}).items()
        }

    def items_of(self, user: Hashable) -> dict[Item, float]:
        return self.by_user.get(user, {})


def rank(
    model: CoOccurrence,
    user: Hashable,
    *,
    k: int,
    allowed: Callable[[Item], bool],
    popular: list[Item],
    groups: dict[Item, Hashable] | None = None,
    popularity: dict[Item, float] | None = None,
    skip_seen: bool = True,
) -> list[Pick]:
    """The member's top ``k`` items among those ``allowed`` (and, with ``skip_seen``,
    not engaged with already; offers pass False: a product clicked but not bought may
    still be offered): co-occurrence first, then group affinity, then ``popular``."""
    mine = model.items_of(user)
    seen = mine if skip_seen else {}
    scores: dict[Item, float] = defaultdict(float)
    best: dict[Item, tuple[float, Item]] = {}
    for own, weight in mine.items():
        for other, similarity in model.similar(own).items():
            if other in seen:
                continue
            part = weight * similarity
            scores[other] += part
            if part > best.get(other, (0.0, None))[0]:
                best[other] = (part, own)
    if not skip_seen:
        # What they engaged with but may still take (a product clicked, not bought) is
        # the clearest sign of all: it counts as fully similar to itself.
        for own, weight in mine.items():
            scores[own] += weight
            if weight > best.get(own, (0.0, None))[0]:
                best[own] = (weight, own)
    top = max(scores.values(), default=0.0) or 1.0
    picks: dict[Item, Pick] = {
        item: Pick(item, score / top, because=best[item][1])
        for item, score in scores.items()
        if allowed(item)
    }
    if groups and popularity:
        affinity: dict[Hashable, float] = defaultdict(float)
        for own, weight in mine.items():
            if own in groups:
                affinity[groups[own]] += weight
        total = sum(affinity.values()) or 1.0
        loudest = max(popularity.values(), default=0.0) or 1.0
        for item, group in groups.items():
            if item in seen or group not in affinity or not allowed(item):
                continue
            extra = GROUP_WEIGHT * (affinity[group] / total) * (popularity.get(item, 0.0) / loudest)
            if extra <= 0:
                continue
            known = picks.get(item)
            if known is None:
                picks[item] = Pick(item, extra, group=group)
            else:
                picks[item] = Pick(item, known.score + extra, because=known.because)
    chosen = sorted(picks.values(), key=lambda pick: (-pick.score, str(pick.item)))[:k]
    taken = {pick.item for pick in chosen}
    for item in popular:
        if len(chosen) >= k:
            break
        if item not in taken and item not in seen and allowed(item):
            chosen.append(Pick(item, 0.0))
            taken.add(item)
    return chosen


def most_popular(interactions: Iterable[tuple[Hashable, Item, float]]) -> list[Item]:
    """Items by how many members engaged with them, most first (the baseline, and the
    newcomers' list when given the last week's interactions)."""
    counts: dict[Item, int] = defaultdict(int)
    for _user, item, _weight in interactions:
        counts[item] += 1
    return sorted(counts, key=lambda item: (-counts[item], str(item)))
