"""EXPLAIN ANALYZE of the statements behind the measured pages, on a database that
``flask bench data --targets targets.json`` filled (PostgreSQL):

BENCH_DATABASE_URL=postgresql+psycopg://... python -m tests.bench.explain_pages targets.json

Each page is requested once in process as an anonymous reader with the page cache off;
every SELECT it ran is explained with the parameters it ran with.
"""

import json
import os
import sys
from pathlib import Path

from sqlalchemy import event


def main(targets_path: str) -> None:
    from forum import create_app
    from forum.extensions import db

    paths = json.loads(Path(targets_path).read_text())["paths"]
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["BENCH_DATABASE_URL"],
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "PAGE_CACHE_TYPE": "NullCache",
        }
    )
    seen: list[tuple[str, object]] = []
    with app.app_context():
        event.listen(
            db.engine, "before_cursor_execute", lambda c, cur, s, p, *a: seen.append((s, p))
        )
    client = app.test_client()
    for name in (
        "index",
        "forum_p1",
        "forum_p500",
        "forum_p5000",
        "topic_10posts",
        "user_profile",
        "search",
    ):
        if name not in paths:
            continue
        client.get(paths[name])  # warm
        seen.clear()
        assert client.get(paths[name]).status_code == 200
        print(f"\n===== {name}: {paths[name][:60]}")
        with app.app_context():
            connection = db.engine.raw_connection()
            cursor = connection.cursor()
            for statement, params in list(seen):
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                if "FROM categories" in statement and "JOIN" not in statement:
                    continue  # five rows
                print("--", " ".join(statement.split())[:200])
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, params)
                for (line,) in cursor.fetchall():
                    print("  ", line)
            connection.close()


if __name__ == "__main__":
    main(sys.argv[1])
