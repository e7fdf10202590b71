"""A thread page with 20 unread-tracked posts: what read tracking costs a page view.

    python -m tests.bench unread     (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)

Eight members each open a 20-post thread they have not read; every view of a signed-in
member records how far they read (the ``thread_reads`` upsert) and lists the unread mark,
a visitor's view records nothing. Prints req/s and p50/p99 at 1 and 8 connections for
both; asserts nothing about time.
"""

import os
import re

import requests

from tests.bench.common import database_uri, hammer, serve

MEMBERS = 8
PASSWORD = "bench passphrase kept"


def build(uri: str) -> int:
    from forum import create_app
    from forum.accounts import service as accounts
    from forum.board import service as board
    from forum.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "FIRST_POSTS_HELD": 0,
        }
    )
    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        admin = accounts.register("benchadmin", "bench@example.com", PASSWORD, role="admin")
        category = board.create_category(admin, "bench", "Bench")
        thread = board.create_thread(admin, category, "Twenty posts to read", "post 1")
        for n in range(2, 21):
            board.reply(
                admin,
                thread,
                f"post {n} with **some** _markdown_ and a [link](https://example.com)",
            )
        for n in range(MEMBERS):
            accounts.register(f"reader{n}", f"reader{n}@example.com", PASSWORD)
        db.session.commit()
        thread_id = thread.id
        db.engine.dispose()
    return thread_id


def signed_in(server, counter=iter(range(10**6))):
    """A session factory: each session logs in as the next reader."""

    def make() -> requests.Session:
        session = requests.Session()
        page = session.get(server("/login")).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        n = next(counter) % MEMBERS
        done = session.post(
            server("/login"),
            data={"username": f"reader{n}", "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert done.status_code in (302, 303), done.status_code
        return session

    return make


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    uri = database_uri()
    thread_id = build(uri)
    for attempt in range(3):  # a loaded machine may need more than one start
        try:
            server = serve(uri)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    engine = uri.split(":")[0].split("+")[0]
    try:
        url = server(f"/t/{thread_id}")
        for label, factory in (
            ("visitor", requests.Session),
            ("member, read tracked", signed_in(server)),
        ):
            for concurrency in (1, 8):
                figures = hammer(
                    [url], concurrency=concurrency, seconds=seconds, session_factory=factory
                )
                print(
                    f"thread page, 20 posts, {label:>20}, c={concurrency}: "
                    f"{figures['rps']:7.1f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
                    f"p99 {figures['p99_ms']:6.1f} ms  errors {figures['errors']}  ({engine})"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
