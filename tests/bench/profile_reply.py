"""Where one reply's CPU goes: statements and a profile of ``POST /t/<id>/reply``.

    python -m tests.bench.profile_reply [--profile | --cpu]
    PLAZA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench \\
        python -m tests.bench.profile_reply

The peer kit's "post a reply" row, one request at a time: eight members each reply to
their own thread (as post_bench.py rotates sessions over topics) with the kit's Markdown
body, through the HTML form and the test client. Prints the statements of one reply and
this process's CPU per reply (process time: it holds on a loaded machine); ``--profile``
adds a pyinstrument profile, ``--cpu`` a cProfile. The database is emptied. Not a
``bench_`` module: ``make bench`` does not run it.
"""

import os
import sys

from sqlalchemy import event

from tests.bench.bench_shop_orders import make_app
from tests.bench.common import print_one_call, timed_runs

BODY = (
    "Benchmark reply #{n}. This is a **markdown** reply with a list:\n\n"
    "- first item with `code`\n- second item with a [link](https://example.org/{n})\n\n"
    "> quoted line\n\nAnd a closing paragraph that is long enough to look like a real post, "
    "talking about gunicorn workers and sqlite locking."
)
MEMBERS = 8


def setup(app) -> list[tuple[str, int]]:
    """(username, thread id) per member: each thread started by another member."""
    from forum.accounts import service as accounts
    from forum.board import service as board
    from forum.extensions import db

    with app.app_context(), app.test_request_context("/"):
        admin = accounts.register(
            "bench_admin", "admin@example.com", "bench pass 123", role="admin"
        )
        category = board.create_category(admin, "general", "General")
        users = [
            accounts.register(f"bench{i}", f"bench{i}@example.com", "bench pass 123")
            for i in range(MEMBERS)
        ]
        for user in users:
            user.trust_level = 1
        db.session.commit()
        pairs = []
        for i, user in enumerate(users):
            starter = users[(i + 1) % MEMBERS]
            thread = board.create_thread(starter, category, f"Thread {i}", "Opening post here.")
            db.session.commit()
            pairs.append((user.username, thread.id))
        return pairs


def main(argv: list[str]) -> None:
    from forum.extensions import db

    runs = int(os.environ.get("BENCH_PROFILE_RUNS", "200"))
    app, dialect = make_app()
    app.config.update(FIRST_POSTS_HELD=0, WTF_CSRF_ENABLED=False)
    pairs = setup(app)
    clients = []
    for username, thread_id in pairs:
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": "bench pass 123"})
        assert response.status_code == 302, response.status_code
        clients.append((client, thread_id))
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        if os.environ.get("BENCH_CACHE_STATS"):  # which statements miss the compiled cache
            event.listen(
                db.engine,
                "after_cursor_execute",
                lambda conn, cursor, sql, params, context, many: statements.append(
                    f"  ^ {context._get_cache_stats()}"
                ),
            )
    count = 0

    def once() -> None:
        nonlocal count
        client, thread_id = clients[count % len(clients)]
        count += 1
        response = client.post(f"/t/{thread_id}/reply", data={"body": BODY.format(n=count)})
        assert response.status_code == 302, (response.status_code, response.text[:500])

    for _ in range(2 * len(clients)):  # first replies write more (watching, trust rows)
        once()
    print_one_call(once, statements, f"[{dialect}] one reply")
    cpu, wall = timed_runs(once, runs, argv)
    print(
        f"[{dialect}] {cpu * 1000:.2f} ms CPU per reply "
        f"({wall * 1000:.2f} ms wall, {runs} replies, "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
