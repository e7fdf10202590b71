"""Offline evaluation of the recommender against "most popular", on demo-like activity.

python -m tests.bench recommend          (BENCH_RECOMMEND_SEEDS=1,2,3: which communities to average)

Builds a community like the demo's at a larger scale, in memory: categories of threads
and shops of products on topics (espresso, cycling, ...); members with one to three
favourite topics and very different activity levels; every day, members read and reply
in threads (mostly their topics, often whatever is hot), click and buy products (mostly
their topics, sometimes the bestsellers), over eight weeks. Split by time: the first six
weeks train, the last two are the future. For every member with a past and a future,
each method ranks 10 items they have not engaged with (not bought, for offers) among
items that existed before the split; a hit is one they engaged with (bought) in the
future. precision@10 = hits / 10, recall@10 = hits / what they engaged with in the
future, averaged over members. Both methods use ``forum.recommend.model``, the code the
periodic job runs: ``rank`` for the recommender, ``most_popular`` for the baseline.
"""

from __future__ import annotations

import os
import random
from collections import defaultdict

from forum.recommend import model

TOPICS = ("espresso", "cycling", "photo", "gardening", "gaming", "baking", "audio", "travel")
DAYS, SPLIT_DAY, K = 56, 42, 10


def community(seed: int) -> dict:
    """Threads, products and timed interactions: (day, kind, user, item, weight)."""
    rng = random.Random(seed)
    threads = []  # (thread_id, topic, created_day, appeal)
    for n in range(len(TOPICS) * 45):
        threads.append((n, TOPICS[n % len(TOPICS)], rng.randrange(DAYS), rng.paretovariate(1.3)))
    products = [(n, TOPICS[n % len(TOPICS)], rng.paretovariate(1.2)) for n in range(160)]
    members = []
    for user in range(600):
        likes = rng.sample(TOPICS, rng.choice((1, 1, 2, 2, 3)))
        members.append((user, likes, rng.lognormvariate(0, 1.0)))
    events: list[tuple[int, str, int, int, float]] = []
    for day in range(DAYS):
        live = [t for t in threads if t[2] <= day]
        hot = sorted(live, key=lambda t: -t[3] / (1 + (day - t[2]) / 7))[:15]
        for user, likes, activity in members:
            for _ in range(_poisson(rng, 0.6 * activity)):
                if rng.random() < 0.3:  # what everyone is talking about
                    thread = rng.choice(hot)
                else:
                    topic = rng.choice(likes) if rng.random() < 0.85 else rng.choice(TOPICS)
                    pool = [t for t in live if t[1] == topic] or live
                    thread = rng.choices(pool, weights=[t[3] for t in pool])[0]
                weight = 3.0 if rng.random() < 0.2 else 1.0
                events.append((day, "thread", user, thread[0], weight))
            for _ in range(_poisson(rng, 0.08 * activity)):
                if rng.random() < 0.35:  # the bestsellers
                    pool = products
                else:
                    topic = rng.choice(likes)
                    pool = [p for p in products if p[1] == topic]
                product = rng.choices(pool, weights=[p[2] for p in pool])[0]
                bought = rng.random() < 0.45
                events.append((day, "buy" if bought else "click", user, product[0], 1.0))
    return {"threads": threads, "events": events}


def _poisson(rng: random.Random, mean: float) -> int:
    count, bound, product = 0, pow(2.718281828, -mean), rng.random()
    while product > bound:
        count += 1
        product *= rng.random()
    return count


def evaluate(data: dict, kind: str) -> dict[str, tuple[float, float, int]]:
    """{method: (precision@10, recall@10, members evaluated)} for "threads" or "offers"."""
    past = [e for e in data["events"] if e[0] < SPLIT_DAY]
    future = [e for e in data["events"] if e[0] >= SPLIT_DAY]
    if kind == "threads":
        train = [(u, i, w) for _d, k, u, i, w in past if k == "thread"]
        truth_rows = [(u, i) for _d, k, u, i, _w in future if k == "thread"]
        groups = {t[0]: t[1] for t in data["threads"]}
        excluded: dict[int, set] = defaultdict(set)
        for u, i, _w in train:
            excluded[u].add(i)
    else:
        # Offers learn from purchases (weight 2) and clicks (weight 1) together.
        train = [(u, i, 2.0 if k == "buy" else 1.0) for _d, k, u, i, _w in past if k != "thread"]
        truth_rows = [(u, i) for _d, k, u, i, _w in future if k == "buy"]
        groups = None
        excluded = defaultdict(set)
        for _d, k, u, i, _w in past:
            if k == "buy":
                excluded[u].add(i)
    existing = {i for _u, i, _w in train}
    truth: dict[int, set] = defaultdict(set)
    for u, i in truth_rows:
        if i in existing and i not in excluded[u]:
            truth[u].add(i)
    learnt = model.CoOccurrence(train)
    popular = model.most_popular(train)
    week = [(u, i, w) for (d, k, u, i, w) in past if d >= SPLIT_DAY - 7]
    popularity = defaultdict(float)
    for _u, i, _w in week:
        popularity[i] += 1.0
    results = {}
    for method in ("recommender", "most popular"):
        precision = recall = 0.0
        users = [u for u in truth if learnt.items_of(u)]
        for user in users:

            def allowed(item, user=user):
                return item in existing and item not in excluded[user]

            if method == "recommender":
                picks = [
                    p.item
                    for p in model.rank(
                        learnt,
                        user,
                        k=K,
                        allowed=allowed,
                        popular=model.most_popular(week) + popular,
                        groups=groups,
                        popularity=popularity,
                        skip_seen=kind == "threads",
                    )
                ]
            else:
                picks = [i for i in popular if allowed(i)][:K]
            hits = len(set(picks) & truth[user])
            precision += hits / K
            recall += hits / len(truth[user])
        results[method] = (precision / len(users), recall / len(users), len(users))
    return results


def main() -> None:
    seeds = [int(s) for s in os.environ.get("BENCH_RECOMMEND_SEEDS", "1,2,3").split(",")]
    print(f"{len(seeds)} communities (seeds {seeds}), {DAYS} days, train < day {SPLIT_DAY}, k={K}")
    for kind in ("threads", "offers"):
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        for seed in seeds:
            for method, (p, r, n) in evaluate(community(seed), kind).items():
                totals[method][0] += p / len(seeds)
                totals[method][1] += r / len(seeds)
                totals[method][2] += n / len(seeds)
        for method, (p, r, n) in totals.items():
            print(
                f"{kind:8} {method:13} precision@10 {p:.4f}  recall@10 {r:.4f}  ({n:.0f} members)"
            )


if __name__ == "__main__":
    main()
