"""Search at scale: p50 of the service (c=1) and req/s of GET /search at c=8.

    BENCH_POSTS=20000,200000 python -m tests.bench search
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench_search \\
        BENCH_POSTS=20000,200000,2000000 python -m tests.bench search
    BENCH_REUSE=1 BENCH_DATABASE_URL=sqlite:////tmp/x/bench.sqlite3 BENCH_POSTS=200000 \\
        python -m tests.bench search      (measure a dataset built before; BENCH_ROUNDS=15)

Each size is built afresh with ``flask bench data --posts N --reset`` (the peer kit's
shape: ten rare terms in ~0.5 % of posts each), which fills the search index too.
Queries: a rare term (``werkzeug``), a rare prefix (``hyperc``), two words, a
common word, a term with no hits, each through the service and over HTTP. Prints
figures with the load average beside each and the plan of the rare-term query
(EXPLAIN ANALYZE on PostgreSQL: the GIN index ``ix_search_documents_fts``); asserts
nothing about time.
"""

import os
import statistics
import time

import requests

from tests.bench.common import database_uri, hammer, load_average, run_flask, serve

QUERIES = {
    "rare term": "werkzeug",
    "rare prefix": "hyperc",
    "two words": "alembic migration",
    "common word": "python",
    "no hits": "zyzzogeton",
}


def _app(uri: str):
    from forum import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": uri, "ENV": "testing", "SECRET_KEY": "bench", "TESTING": True}
    )


def service_p50(uri: str, rounds: int = 15) -> dict[str, tuple[float, int]]:
    """Median ms of ``search.search`` per query (first page, 20 hits) and its hit count."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.search import service
    from forum.search.schemas import SearchQuery

    app = _app(uri)
    figures = {}
    with app.app_context(), app.test_request_context("/"):
        for label, q in QUERIES.items():
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                page = service.search(SearchQuery(q=q), limit=20)
                times.append((time.perf_counter() - start) * 1000)
                db.session.rollback()
            figures[label] = (statistics.median(times), len(page.items))
        times = []
        for _ in range(rounds):  # the floor: one round trip to the database
            start = time.perf_counter()
            db.session.execute(select(1)).scalar()
            times.append((time.perf_counter() - start) * 1000)
            db.session.rollback()
        figures["SELECT 1"] = (statistics.median(times), 0)
        db.engine.dispose()
    return figures


def explain(uri: str, q: str = "werkzeug") -> str:
    from sqlalchemy import text

    from forum.extensions import db
    from forum.search import service
    from forum.search.schemas import SearchQuery

    app = _app(uri)
    with app.app_context(), app.test_request_context("/"):
        statement = service.ranked_statement(SearchQuery(q=q))
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN (ANALYZE, BUFFERS)" if "postgresql" in uri else "EXPLAIN QUERY PLAN"
        rows = db.session.execute(text(f"{prefix} {compiled}")).all()
        db.engine.dispose()
    return "\n".join("    " + str(row[-1] if "postgresql" not in uri else row[0]) for row in rows)


def main() -> None:
    sizes = [int(n) for n in os.environ.get("BENCH_POSTS", "20000,200000").split(",")]
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    uri = database_uri()
    engine = uri.split(":")[0].split("+")[0]
    for posts in sizes:
        started = time.perf_counter()
        if not os.environ.get("BENCH_REUSE"):  # BENCH_REUSE=1: measure BENCH_DATABASE_URL as built
            run_flask(["bench", "data", "--posts", str(posts), "--reset"], uri)
        print(f"\n{engine}, {posts:,} posts (built in {time.perf_counter() - started:.0f} s)")
        rounds = int(os.environ.get("BENCH_ROUNDS", "15"))
        for label, (p50, count) in service_p50(uri, rounds).items():
            print(
                f"  service {label:>12} {QUERIES.get(label, '')!r:>22}: p50 {p50:7.2f} ms  "
                f"({count} hits)  [{load_average()}]"
            )
        try:
            server = serve(uri)
        except RuntimeError:  # a loaded machine: one more try, then no HTTP figures
            try:
                server = serve(uri)
            except RuntimeError as err:
                print(f"  (no HTTP figures: {str(err).splitlines()[0]})")
                print(f"  plan of {QUERIES['rare term']!r}:\n{explain(uri)}")
                continue
        try:
            for label, q in QUERIES.items():
                url = server(f"/search?q={q.replace(' ', '+')}")
                requests.get(url, timeout=30)  # warm: the first answer compiles and caches
                one = hammer([url], concurrency=1, seconds=seconds / 2)
                eight = hammer([url], concurrency=8, seconds=seconds)
                print(
                    f"  GET /search {label:>12}: c=1 p50 {one['p50_ms']:6.1f} ms;  c=8 "
                    f"{eight['rps']:6.1f} req/s p50 {eight['p50_ms']:6.1f} ms "
                    f"p99 {eight['p99_ms']:6.1f} ms  errors {eight['errors']}  [{load_average()}]"
                )
        finally:
            server.stop()
        print(f"  plan of {QUERIES['rare term']!r}:\n{explain(uri)}")


if __name__ == "__main__":
    main()
