"""Where a page's time goes: SQL statements per request and a pyinstrument profile.

BENCH_DATABASE_URL=postgresql+psycopg://... python -m tests.bench.profile_page / /c/general
(a database filled by ``flask bench data``; ``BENCH_PROFILE_RUNS`` requests profiled, 50;
``BENCH_PAGE_CACHE=1`` profiles with the in-process page caches on, as an anonymous
reader meets them).
Not a ``bench_`` module: ``make bench`` does not run it.
"""

import os
import sys
import time

from sqlalchemy import event


def main(paths: list[str]) -> None:
    from pyinstrument import Profiler

    from forum import create_app
    from forum.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            # The work itself by default, not the cache in front of it.
            "PAGE_CACHE_TYPE": "SimpleCache"
            if os.environ.get("BENCH_PAGE_CACHE") == "1"
            else "NullCache",
        }
    )
    runs = int(os.environ.get("BENCH_PROFILE_RUNS", "50"))
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = app.test_client()
    for path in paths or ["/"]:
        client.get(path)  # warm: templates compiled, connections open
        statements.clear()
        assert client.get(path).status_code == 200, path
        print(f"\n== {path}: {len(statements)} SQL statements per request")
        for sql in statements:
            print("  ", " ".join(sql.split())[:160])
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        with profiler:
            for _ in range(runs):
                client.get(path)
        print(f"   {(time.perf_counter() - started) / runs * 1000:.2f} ms per request (in process)")
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main(sys.argv[1:])
