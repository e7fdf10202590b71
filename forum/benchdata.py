"""The benchmark dataset: the FlaskBB peer kit's shape at any size (``flask bench data``).

The shape of ``../shared/peers/flaskbb/populate_flaskbb.py``: 200 members with skewed
activity, 5 categories holding 5/40/30/15/10 % of the threads, one thread per ten posts
with lognormal lengths, ~420-character Markdown bodies (18 % with fenced code, quotes,
lists, links), ten rare terms in 0.5 % of the posts each (~100 hits at 20,000 posts),
timestamps over the two years before now, post ids in time order.

Rows go in through bulk inserts (COPY on PostgreSQL, executemany on SQLite) with every
denormalised column the app keeps filled as posting would have: ``body_html`` rendered by
``forum.markup`` (in worker processes), the thread's counts and last post, the
category's and member's counts, the search documents (search's own rebuild, from the
board; on PostgreSQL the secondary and GIN indexes are dropped for the load and built
once after it; SQLite's FTS tables follow their triggers). Deterministic for a seed.
200,000 posts on PostgreSQL: 4.4 minutes at load average 8-11 on 2 cores (was 42);
2,000,000: 38 minutes at load average 6-9 (22 rendering the posts' Markdown, 15 the search
documents and their GIN index), which grow linearly with the posts.
"""

import json
import multiprocessing
import os
import random
import time
from array import array
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select, text
from werkzeug.security import generate_password_hash

from . import markup
from .accounts.models import User
from .board.models import Category, Post, Thread
from .clock import now
from .extensions import db
from .pagination import encode

PASSWORD = "benchpass"  # noqa: S105  (the peer kit's password for its bench users)
CATEGORIES = (  # slug, name, share of the threads (the peer's 100/800/600/300/200)
    ("announcements", "Announcements", 0.05),
    ("general", "General Discussion", 0.40),
    ("help", "Help & Support", 0.30),
    ("plugins", "Plugins & Themes", 0.15),
    ("lounge", "Off-Topic Lounge", 0.10),
)
WORDS = """the a to of and in is it that for you this with on be are as not have
but can if or what so do was just I my we use like get would will one all there
about which when from your they at more some any need think know only also by
use using used make works working work problem issue error fix fixed solution
try tried trying python flask template database query sqlite postgres server
request response session cookie cache redis worker gunicorn nginx config setting
install upgrade version release migration model view route blueprint plugin
theme markdown post topic forum user admin moderator permission login password
email page pagination performance slow fast memory cpu thread process async
log logs debug traceback exception import module package pip virtualenv docker
deploy production test tests pytest coverage commit branch merge review docs
documentation example code function class method argument return value string
list dict json api endpoint header body form field validation csrf token hash
index search result results sort order filter count limit offset join table
column row schema type null default option feature bug report question answer
thanks help please maybe actually probably really still already again instead
because though however anyway basically exactly simple easy hard different same
new old first last next previous other another every each both few many most
good better best bad wrong right sure great nice weird strange interesting""".split()  # noqa: SIM905
PREFIXES = (
    "How to", "Why does", "Best way to", "Problem with", "Question about", "Help with",
    "Issue when", "Feature request:", "Idea:", "Guide to", "Anyone using", "Tips for",
    "Trouble with", "Cannot get", "Slow", "Unexpected", "Understanding", "Announcing",
    "Thoughts on", "Show:",
)  # fmt: skip
NOUNS = (
    "pagination", "the search index", "markdown rendering", "user avatars", "SQLite locking",
    "gunicorn workers", "the admin panel", "email activation", "theme overrides",
    "plugin hooks", "topic tracking", "CSRF tokens", "database migrations", "rate limiting",
    "celery tasks", "unread markers", "the memberlist", "post editing", "nginx proxy",
    "redis caching", "Docker deploy", "static files", "translations", "permissions", "reports",
)  # fmt: skip
FIRST = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "nick", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
    "yara", "zoe", "omar", "li", "mei", "ravi", "anya", "lars", "ines", "kofi", "sven",
)  # fmt: skip
CODE = (
    "```python\nfrom flask import Flask\napp = Flask(__name__)\n\n@app.route('/')\n"
    "def index():\n    return 'hello'\n```",
    "```\n$ pip install -U plaza\n$ flask --app forum db upgrade\n```",
    "```python\nfor post in thread.posts:\n    print(post.id, post.author)\n```",
    "```sql\nSELECT count(*) FROM posts WHERE thread_id = 42;\n```",
    '```\nTraceback (most recent call last):\n  File "app.py", line 12, in <module>\n'
    "    main()\nKeyError: 'SECRET_KEY'\n```",
)
EMOJI = ("🙂", "👍", "🎉", "😅", "🚀")
# Not in WORDS: each in ~0.5 % of posts, so a search has a realistic result size.
RARE = (
    "werkzeug", "uwsgi", "alembic", "jinja", "mistune", "pluggy", "bootstrap", "waitress",
    "hypercorn", "psycopg",
)  # fmt: skip
CHUNK = 5000  # posts per rendering task and per insert batch
INDEX_MEMORY = "256MB"  # maintenance_work_mem while PostgreSQL builds the dropped indexes

# --- text --------------------------------------------------------------------------


def _sentence(rnd: random.Random, n: int | None = None) -> str:
    n = n or rnd.randint(6, 18)
    words = [rnd.choice(WORDS) for _ in range(n)]
    if rnd.random() < 0.25:
        i = rnd.randrange(n)
        words[i] = f"**{words[i]}**" if rnd.random() < 0.5 else f"*{words[i]}*"
    if rnd.random() < 0.08:
        words.append(f"`{rnd.choice(('create_app', 'url_for', 'render_template'))}()`")
    line = " ".join(words)
    return line[0].upper() + line[1:] + rnd.choice((".", ".", ".", "?", "!"))


def _paragraph(rnd: random.Random) -> str:
    return " ".join(_sentence(rnd) for _ in range(rnd.randint(1, 4)))


def post_body(seed: int, post_id: int, usernames: list[str]) -> str:
    """The Markdown of post ``post_id``: the same for a seed whatever process makes it."""
    rnd = random.Random(seed * 1_000_003 + post_id)
    parts = []
    if rnd.random() < 0.10:
        parts.append(f"**{rnd.choice(usernames)}** wrote:\n> {_sentence(rnd)}")
    for _ in range(rnd.choices((1, 2, 3, 4), (40, 35, 18, 7))[0]):
        parts.append(_paragraph(rnd))
    if rnd.random() < 0.18:
        parts.append(rnd.choice(CODE))
    if rnd.random() < 0.12:
        items = (_sentence(rnd, rnd.randint(3, 8)) for _ in range(rnd.randint(2, 5)))
        parts.append("\n".join(f"- {item}" for item in items))
    if rnd.random() < 0.10:
        parts.append(f"See [the docs](https://example.org/docs) or https://example.org/{post_id}")
    if rnd.random() < 0.06:
        parts.append(rnd.choice(EMOJI))
    if rnd.random() < 0.05:
        parts[-1] += f" Related: {rnd.choice(RARE)}."
    return "\n\n".join(parts)


def thread_title(rnd: random.Random) -> str:
    title = f"{rnd.choice(PREFIXES)} {rnd.choice(NOUNS)}"
    if rnd.random() < 0.5:
        title += " " + " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 4)))
    if rnd.random() < 0.3:
        title += "?"
    return title[:200]


def thread_sizes(rnd: random.Random, threads: int, posts: int) -> list[int]:
    """Posts per thread (at least 1), lognormal, summing exactly to ``posts``."""
    raw = [rnd.lognormvariate(0, 1.0) for _ in range(threads)]
    total, extra = sum(raw), posts - threads
    sizes = [1 + int(extra * x / total) for x in raw]
    missing = posts - sum(sizes)  # the floors lost less than one post per thread
    for i in rnd.sample(range(threads), missing):
        sizes[i] += 1
    return sizes


# --- rendering in worker processes ---------------------------------------------------

_worker: dict[str, Any] = {}


def _render_chunk(task: tuple[int, list[int]]) -> list[tuple[str, str]]:
    seed, post_ids = task
    app, usernames = _worker["app"], _worker["usernames"]
    with app.app_context(), app.test_request_context("/"):
        out = []
        for post_id in post_ids:
            body = post_body(seed, post_id, usernames)
            out.append((body, markup.render(body).html))
        return out


def _rendered(app: Flask, seed: int, usernames: list[str], total: int, workers: int):
    """(body, body_html) of posts 1..total in order, rendered by ``workers`` processes."""
    _worker.update(app=app, usernames=usernames)
    tasks = ((seed, list(range(s, min(s + CHUNK, total + 1)))) for s in range(1, total + 1, CHUNK))
    if workers <= 1:
        for task in tasks:
            yield from _render_chunk(task)
        return
    # fork: the workers inherit the app and the names; they never touch the database.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for chunk in pool.imap(_render_chunk, tasks):
            yield from chunk


# --- the plan: who posts what where and when, before any text ------------------------


class Plan:
    """Every row's numbers (no text yet), in arrays so 2,000,000 posts fit in memory."""

    def __init__(self, *, posts: int, threads: int, users: int, seed: int, until: datetime):
        rnd = random.Random(seed)
        self.users, self.start = users, until - timedelta(days=730)
        self.usernames = [f"{rnd.choice(FIRST)}{i:03d}" for i in range(1, users + 1)]
        weights = [1.0 / (k + 1) ** 0.9 for k in range(users)]  # zipf-ish activity
        rnd.shuffle(weights)
        cumulative = list(_accumulate(weights))
        sizes = thread_sizes(rnd, threads, posts)
        category_of: list[int] = []
        for index, (_slug, _name, share) in enumerate(CATEGORIES):
            category_of += [index] * round(share * threads)
        category_of = (category_of + [1] * threads)[:threads]
        rnd.shuffle(category_of)
        span = (until - timedelta(days=1) - self.start).total_seconds()
        horizon = (until - self.start).total_seconds()
        starts = [rnd.random() * span for _ in range(threads)]
        # Thread ids in order of their first post, like a real forum.
        by_start = sorted(range(threads), key=starts.__getitem__)
        self.titles = [thread_title(rnd) for _ in range(threads)]
        self.thread_category = array("i", (category_of[t] for t in by_start))
        self.thread_views = array("i", (sizes[t] * rnd.randint(3, 40) for t in by_start))
        self.thread_pinned = [rnd.random() < 0.005 for _ in range(threads)]
        when, thread, author = array("d"), array("i"), array("i")
        for new_index, old in enumerate(by_start):
            at = starts[old]
            for n in range(sizes[old]):
                if n:  # reply gaps: minutes to days, never past now
                    at += rnd.expovariate(1 / (6 * 3600))
                    if at > horizon:
                        at = horizon - rnd.randint(1, 3600)
                when.append(at)
                thread.append(new_index)
                author.append(rnd.choices(range(users), cum_weights=cumulative)[0])
        order = sorted(range(posts), key=when.__getitem__)  # post ids in time order
        self.post_when = array("d", (when[i] for i in order))
        self.post_thread = array("i", (thread[i] for i in order))
        self.post_author = array("i", (author[i] for i in order))
        self.post_position = array("i", bytes(4 * posts))
        self.thread_count = array("i", bytes(4 * threads))
        self.thread_first = array("i", bytes(4 * threads))
        self.thread_last = array("i", bytes(4 * threads))
        self.user_posts = array("i", bytes(4 * users))
        for index in range(posts):
            t = self.post_thread[index]
            self.thread_count[t] += 1
            self.post_position[index] = self.thread_count[t]
            if self.thread_count[t] == 1:
                self.thread_first[t] = index
            self.thread_last[t] = index
            self.user_posts[self.post_author[index]] += 1

    def at(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=round(seconds, 3))


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


# --- loading -------------------------------------------------------------------------


def _rows_users(plan: Plan, ids: dict[str, int]) -> list[dict]:
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    base = ids["users"]
    return [
        {
            "id": base + n + 1,
            "username": name,
            "username_key": name.casefold(),
            "email": f"{name}@example.invalid",
            "password_hash": password_hash,
            "role": "member",
            "tier": "registered",
            "trust_level": 0,
            "bio": "",
            "timezone": "UTC",
            "post_count": plan.user_posts[n],
            "session_version": 1,
            "created_at": plan.start - timedelta(days=(n * 37) % 365),
        }
        for n, name in enumerate(plan.usernames)
    ]


def _rows_threads(plan: Plan, ids: dict[str, int], category_ids: list[int]) -> list[dict]:
    rows = []
    for t, title in enumerate(plan.titles):
        first, last = plan.thread_first[t], plan.thread_last[t]
        rows.append(
            {
                "id": ids["threads"] + t + 1,
                "category_id": category_ids[plan.thread_category[t]],
                "author_id": ids["users"] + plan.post_author[first] + 1,
                "title": title,
                "pinned": plan.thread_pinned[t],
                "locked": False,
                "post_count": plan.thread_count[t],
                "reply_count": plan.thread_count[t] - 1,
                "view_count": plan.thread_views[t],
                "last_activity_at": plan.at(plan.post_when[last]),
                "last_post_id": ids["posts"] + last + 1,
                "last_poster_id": ids["users"] + plan.post_author[last] + 1,
                "created_at": plan.at(plan.post_when[first]),
            }
        )
    return rows


def _rows_posts(plan: Plan, ids: dict[str, int], texts) -> Iterator[dict]:
    for index, (body, html) in enumerate(texts):
        yield {
            "id": ids["posts"] + index + 1,
            "thread_id": ids["threads"] + plan.post_thread[index] + 1,
            "author_id": ids["users"] + plan.post_author[index] + 1,
            "position": plan.post_position[index],
            "body": body,
            "body_html": html,
            "embeds": [],
            "like_count": 0,
            "created_at": plan.at(plan.post_when[index]),
        }


def _batches(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy(table, rows) -> None:
    """COPY ``rows`` (dicts with the same keys) into ``table`` on PostgreSQL."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    columns = list(first)
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        copy.write_row([_pg(first[c]) for c in columns])
        for row in rows:
            copy.write_row([_pg(row[c]) for c in columns])


def _pg(value: Any) -> Any:
    if isinstance(value, datetime):  # UTCDateTime stores naive UTC
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, list):
        return json.dumps(value)
    return value


def _load(table, rows, postgres: bool) -> None:
    if postgres:
        _copy(table, rows)
        return
    for batch in _batches(iter(rows), CHUNK):
        db.session.execute(insert(table), batch)


def _secondary_indexes(tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """PostgreSQL indexes of ``tables`` that back no constraint: (name, definition)."""
    found = db.session.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = ANY(:tables) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)"
        ),
        {"tables": list(tables)},
    )
    return [(name, definition) for name, definition in found]


def build(
    app: Flask,
    *,
    posts: int = 20_000,
    threads: int | None = None,
    users: int = 200,
    seed: int = 42,
    workers: int | None = None,
    log=print,
) -> dict:
    """Add the dataset to the (migrated) database; returns the benchmark targets."""
    threads = threads or max(1, posts // 10)
    if not 1 <= threads <= posts:
        raise ValueError("need at least one post per thread")
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    plan = Plan(posts=posts, threads=threads, users=users, seed=seed, until=now())
    log(f"planned {users} users, {threads} threads, {posts} posts in {_since(started)}")
    postgres = db.engine.dialect.name == "postgresql"
    ids = {  # appended after whatever is there (ids continue, nothing collides)
        name: db.session.scalar(select(func.coalesce(func.max(model.id), 0)))
        for name, model in (("users", User), ("threads", Thread), ("posts", Post))
    }
    taken = set(db.session.scalars(select(User.username_key)))
    if taken & {name.casefold() for name in plan.usernames}:
        raise ValueError("these bench users exist already; use another --seed or --reset")
    if postgres:  # the data is consistent by construction: skip per-row FK triggers
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        dropped = _secondary_indexes(("posts", "threads"))
        for name, _definition in dropped:
            db.session.execute(text(f'DROP INDEX "{name}"'))
    position = db.session.scalar(select(func.coalesce(func.max(Category.position), 0)))
    suffix = f"-{seed}" if db.session.scalar(select(Category.id).limit(1)) else ""
    categories = []
    for n, (slug, name, _share) in enumerate(CATEGORIES):
        in_it = [t for t in range(threads) if plan.thread_category[t] == n]
        category = Category(
            slug=slug + suffix,
            name=name,
            description=f"{name}: benchmark threads",
            position=position + n + 1,
            thread_count=len(in_it),
            post_count=sum(plan.thread_count[t] for t in in_it),
        )
        db.session.add(category)
        categories.append(category)
    db.session.flush()
    _load(User.__table__, _rows_users(plan, ids), postgres)
    _load(Thread.__table__, _rows_threads(plan, ids, [c.id for c in categories]), postgres)
    log(f"users, categories and threads in {_since(started)}; rendering {posts} posts")
    texts = _rendered(app, seed, plan.usernames, posts, workers)
    _load(Post.__table__, _progress(_rows_posts(plan, ids, texts), posts, log, started), postgres)
    if postgres:
        db.session.execute(text(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'"))
        for name, definition in dropped:
            log(f"index {name} ({_since(started)})")
            db.session.execute(text(definition))
        for table in ("users", "threads", "posts"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
                )
            )
    db.session.commit()
    if postgres:
        db.session.execute(text("ANALYZE users, categories, threads, posts"))
        db.session.commit()
    _index_posts(postgres, log, started)
    log(f"loaded in {_since(started)}")
    return targets(plan, ids, categories, seed, time.perf_counter() - started)


def _index_posts(postgres: bool, log, started: float) -> None:
    """Search documents for the new posts, from the board, as a new install would have
    them after `flask search rebuild`. On PostgreSQL the GIN index goes first and is
    built once after (an index kept with ``fastupdate = off`` takes every row's ~50
    lexemes as random writes into a growing tree: most of the 42 minutes 200,000 posts
    took); the weighted ``tsv`` is still filled by search's own trigger in the same
    INSERT, so no second pass rewrites the table."""
    from .search import service as search

    dropped = _secondary_indexes(("search_documents",)) if postgres else []
    for name, _definition in dropped:
        db.session.execute(text(f'DROP INDEX "{name}"'))
    db.session.commit()
    step = 100_000 if postgres else 20_000
    try:
        search.rebuild(
            ["post"],
            progress=lambda _s, n: (
                n % step or log(f"  search: {n:,} documents ({_since(started)})")
            ),
        )
    finally:  # a failed build still leaves search its index
        db.session.rollback()
        if dropped:
            db.session.execute(text(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'"))
        for name, definition in dropped:
            log(f"index {name} ({_since(started)})")
            db.session.execute(text(definition))
        db.session.commit()
    if postgres:
        db.session.execute(text("ANALYZE search_documents"))
        db.session.commit()


def _progress(rows: Iterator[dict], total: int, log, started: float) -> Iterator[dict]:
    step = max(CHUNK, total // 10)
    for n, row in enumerate(rows, 1):
        if n % step == 0:
            log(f"  {n:,} posts ({_since(started)})")
        yield row


def _since(started: float) -> str:
    return f"{time.perf_counter() - started:.1f} s"


def targets(plan: Plan, ids: dict[str, int], categories: list, seed: int, took: float) -> dict:
    """The pages to measure, as the peer kit's bench_targets.json names them."""
    big = max(range(len(CATEGORIES)), key=lambda n: CATEGORIES[n][2])
    category = categories[big]
    in_big = [t for t in range(len(plan.titles)) if plan.thread_category[t] == big]
    ten = next((t for t in in_big if plan.thread_count[t] == 10), in_big[0])
    around = [t for t in in_big if 15 <= plan.thread_count[t] <= 20] or [ten]
    middle = sorted(range(plan.users), key=plan.user_posts.__getitem__)[plan.users // 2]
    paths = {
        "index": "/",
        "forum_p1": f"/c/{category.slug}",
        "topic_10posts": f"/t/{ids['threads'] + ten + 1}",
        "topic15_20": f"/t/{ids['threads'] + max(around, key=plan.thread_count.__getitem__) + 1}",
        "user_profile": f"/u/{plan.usernames[middle]}",
        "search": "/search?q=werkzeug",
    }
    for page in (50, 500, 5000):  # numbered as the peer's pages of 10: after (page-1)*10
        cursor = category_cursor(category.id, page, per_page=10)
        if cursor:
            paths[f"forum_p{page}"] = f"/c/{category.slug}?cursor={cursor}"
    return {
        "seed": seed,
        "stats": {"users": plan.users, "threads": len(plan.titles), "posts": len(plan.post_when)},
        "big_category": {"slug": category.slug, "threads": category.thread_count},
        "search_term": "werkzeug",
        "bench_users": plan.usernames,
        # Threads the reply benchmark writes to, one per member (the peer kit's post_topics).
        "reply_threads": [ids["threads"] + t + 1 for t in in_big[:32]],
        "password": PASSWORD,
        "paths": paths,
        "seconds": round(took, 1),
    }


def category_cursor(category_id: int, page: int, *, per_page: int) -> str | None:
    """The ``?cursor=`` that opens page ``page`` of a category (None past its end)."""
    row = db.session.execute(
        select(Thread.pinned, Thread.last_activity_at, Thread.id)
        .where(Thread.category_id == category_id, Thread.deleted_at.is_(None))
        .order_by(Thread.pinned.desc(), Thread.last_activity_at.desc(), Thread.id.desc())
        .offset((page - 1) * per_page - 1)
        .limit(1)
    ).first()
    if row is None or page < 2:
        return None
    return encode([row.pinned, row.last_activity_at.isoformat(), row.id])
