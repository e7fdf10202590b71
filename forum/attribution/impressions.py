"""Counting widget impressions cheaply.

``forum.embeds`` tells ``collect`` about every widget it renders in a post or
chat message; the pairs wait in ``g`` and ``flush`` (after the response is
built) writes them in one short transaction of its own:

1. which of them this viewer has not been counted for today: one pipelined
   round trip of ``SET NX`` to Redis when ``ATTRIBUTION_REDIS_URL`` is set, else
   the compact ``attr_impression_seen`` table;
2. one batched upsert ``count = count + excluded.count`` into the per (day,
   source, embed) counter table.

On PostgreSQL without Redis both steps are ONE statement (a CTE: the seen-set
insert returns what is new, only that moves the counters). On SQLite a repeat
viewer costs one read and takes no write lock; a new one adds the seen-set
insert and the counter upsert. Digests a process has seen stored are remembered
(per app, bounded): a viewer this process already counted today costs no statement.

The statements are compiled once and executed with a parameter list, so a page
of 20 widgets costs the same Python work as a page of one.

Bots are not counted; a failure is logged and never breaks the page. Setting
``ATTRIBUTION_IMPRESSIONS_ENABLED = False`` switches counting off.
"""

import hashlib
import logging
import threading
from datetime import date, timedelta

from flask import current_app, g, has_request_context, request
from sqlalchemy import delete, select, text

from ..clock import now
from ..database import dialect_insert, insert_ignore
from ..embeds import EmbedContext
from ..extensions import db
from ..markup import EmbedRef
from . import service
from .models import ImpressionCount, ImpressionSeen

log = logging.getLogger(__name__)

SOURCES = ("post", "message")
_PENDING = "plaza_attribution_shown"
_REDIS_KEY = "plaza_attribution_redis"
_STATEMENTS_KEY = "plaza_attribution_impression_statements"
_SEEN_HERE_KEY = "plaza_attribution_seen_here"
SEEN_TTL_SECONDS = 2 * 86400
SEEN_HERE_MAX = 50_000  # digests this process knows are in the seen-set (~100 bytes each)
_seen_lock = threading.Lock()

Key = tuple[str, int, str, int]  # (source kind, source id, embed kind, embed id)


def enabled() -> bool:
    return bool(service.setting("ATTRIBUTION_IMPRESSIONS_ENABLED"))


def collect(_sender, *, pairs: list[tuple[EmbedRef, EmbedContext]]) -> None:
    """``signals.widgets_shown`` receiver: remember what this request showed."""
    if not has_request_context() or not enabled():
        return
    shown = g.get(_PENDING)
    if shown is None:
        shown = g.setdefault(_PENDING, {})
    for ref, context in pairs:
        if context.source_kind in SOURCES and context.source_id is not None:
            shown.setdefault((context.source_kind, context.source_id, ref.kind, ref.id), context)


def flush(response):
    """After a page is built: count what it showed (once per viewer per day)."""
    shown = g.pop(_PENDING, None)
    if (
        not shown
        or response.status_code != 200
        or service.is_bot(request.headers.get("User-Agent"))
    ):
        return response
    try:
        viewer, day = service.viewer_key(), now().date()
        here = _seen_here()  # who this process counted today needs no owner looked up
        shown = {key: c for key, c in shown.items() if _digest(viewer, key, day) not in here}
        if not shown:
            return response
        owners = {key: service.offer_owner(EmbedRef(key[2], key[3])) for key in shown}
        count(shown, owners, viewer, day)
    except Exception:  # counting must never cost the reader their page
        log.exception("attribution: could not count impressions")
    return response


def _digest(viewer: str, key: Key, day: date) -> str:
    return hashlib.blake2b(
        f"{viewer}|{key[0]}:{key[1]}|{key[2]}:{key[3]}|{day.isoformat()}".encode(), digest_size=16
    ).hexdigest()


def _redis():
    url = service.setting("ATTRIBUTION_REDIS_URL")
    if not url:
        return None
    client = current_app.extensions.get(_REDIS_KEY)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        current_app.extensions[_REDIS_KEY] = client
    return client


def _statements():
    """The two writes, built once per dialect so SQLAlchemy compiles them once (executemany)."""
    cached = current_app.extensions.get(_STATEMENTS_KEY)
    if cached is None or cached[0] != db.engine.dialect.name:
        seen = insert_ignore(
            ImpressionSeen, None, index_elements=["digest"], bind=db.engine
        ).returning(ImpressionSeen.digest)
        upsert = dialect_insert(ImpressionCount, bind=db.engine)
        upsert = upsert.on_conflict_do_update(
            index_elements=["day", "source_kind", "source_id", "embed_kind", "embed_id"],
            set_={"count": ImpressionCount.__table__.c["count"] + upsert.excluded["count"]},
        )
        cached = (db.engine.dialect.name, seen, upsert)
        current_app.extensions[_STATEMENTS_KEY] = cached
    return cached[1], cached[2]


def count(
    shown: dict[Key, EmbedContext], owners: dict[Key, int | None], viewer: str, day: date
) -> int:
    """Add one impression per key ``viewer`` has not been counted for on ``day``; returns how many.

    A viewer this process already counted today costs nothing; one counted by another
    process costs one read (no write lock is taken); a new one costs the seen-set
    insert and one batched counter upsert.
    """
    every = {key: _digest(viewer, key, day) for key in shown}
    here = _seen_here()
    # A digest carries its day and the seen-set only grows during that day, so one this
    # process saw stored needs no round trip: a repeat viewer's page costs no statement.
    digests = {key: digest for key, digest in every.items() if digest not in here}
    if not digests:
        return 0
    shown = {key: shown[key] for key in digests}
    counted = _count(shown, owners, digests, day)
    _remember(here, digests.values())  # only once the transaction committed
    return counted


def _seen_here() -> set[str]:
    """Digests known to be in the seen-set, per app (so per database)."""
    here = current_app.extensions.get(_SEEN_HERE_KEY)
    if here is None:
        here = current_app.extensions.setdefault(_SEEN_HERE_KEY, set())
    return here


def _remember(here: set[str], digests) -> None:
    with _seen_lock:
        if len(here) > SEEN_HERE_MAX:
            here.clear()  # yesterday's digests are never asked again; start over
        here.update(digests)


def _count(
    shown: dict[Key, EmbedContext], owners: dict[Key, int | None], digests: dict[Key, str], day
) -> int:
    client = _redis()
    if client is None and db.engine.dialect.name == "postgresql":
        return _count_in_one_statement(shown, owners, digests, day)
    seen_insert, counter_upsert = _statements()
    with db.engine.begin() as connection:
        if client is not None:
            pipe = client.pipeline(transaction=False)
            for digest in digests.values():
                pipe.set(f"plaza:attr:seen:{digest}", 1, nx=True, ex=SEEN_TTL_SECONDS)
            fresh = [key for key, added in zip(digests, pipe.execute(), strict=True) if added]
        else:
            known = set(
                connection.execute(
                    select(ImpressionSeen.digest).where(
                        ImpressionSeen.digest.in_(list(digests.values()))
                    )
                ).scalars()
            )
            unseen = [
                {"digest": digest, "day": day} for digest in digests.values() if digest not in known
            ]
            if not unseen:
                return 0
            # Two pages of one new viewer at once: the insert decides which one counts.
            new_digests = set(connection.execute(seen_insert, unseen).scalars())
            fresh = [key for key, digest in digests.items() if digest in new_digests]
        if not fresh:
            return 0
        connection.execute(
            counter_upsert,
            [
                {
                    "day": day,
                    "source_kind": key[0],
                    "source_id": key[1],
                    "embed_kind": key[2],
                    "embed_id": key[3],
                    "author_id": shown[key].author_id,
                    "room": shown[key].room,
                    "merchant_id": owners.get(key),
                    "count": 1,
                }
                for key in fresh
            ],
        )
    return len(fresh)


# PostgreSQL does the whole page in one round trip: the rows arrive as arrays, the
# seen-set insert reports which are new, and only those move the counters.
_PG_ONE_STATEMENT = text("""
WITH shown AS (
    SELECT * FROM unnest(
        CAST(:digests AS text[]), CAST(:source_kinds AS text[]), CAST(:source_ids AS integer[]),
        CAST(:embed_kinds AS text[]), CAST(:embed_ids AS integer[]), CAST(:author_ids AS integer[]),
        CAST(:rooms AS text[]), CAST(:merchant_ids AS integer[])
    ) AS s(digest, source_kind, source_id, embed_kind, embed_id, author_id, room, merchant_id)
), fresh AS (
    INSERT INTO attr_impression_seen (digest, day) SELECT digest, :day FROM shown
    ON CONFLICT (digest) DO NOTHING
    RETURNING digest
)
INSERT INTO attr_impression_counts
    (day, source_kind, source_id, embed_kind, embed_id, author_id, room, merchant_id, count)
SELECT :day, s.source_kind, s.source_id, s.embed_kind, s.embed_id, s.author_id, s.room, s.merchant_id, 1
FROM shown s JOIN fresh f ON f.digest = s.digest
ON CONFLICT (day, source_kind, source_id, embed_kind, embed_id)
DO UPDATE SET count = attr_impression_counts.count + EXCLUDED.count
""")


def _count_in_one_statement(shown, owners, digests, day: date) -> int:
    keys = list(shown)
    with db.engine.begin() as connection:
        return connection.execute(
            _PG_ONE_STATEMENT,
            {
                "digests": [digests[key] for key in keys],
                "source_kinds": [key[0] for key in keys],
                "source_ids": [key[1] for key in keys],
                "embed_kinds": [key[2] for key in keys],
                "embed_ids": [key[3] for key in keys],
                "author_ids": [shown[key].author_id for key in keys],
                "rooms": [shown[key].room for key in keys],
                "merchant_ids": [owners.get(key) for key in keys],
                "day": day,
            },
        ).rowcount


def prune_seen() -> int:
    """Forget who saw what before yesterday (the counters keep the totals)."""
    cutoff = now().date() - timedelta(days=1)
    return db.session.execute(delete(ImpressionSeen).where(ImpressionSeen.day < cutoff)).rowcount
