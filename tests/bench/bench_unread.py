"""A thread page with 20 unread-tracked posts: what read tracking costs a page view.

    python -m tests.bench unread     (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)

Eight members each open a 20-post thread they have not read. A visitor's view reads
only; a member's view also reads their read mark, watch level, likes, bookmarks and
draft (and trust's reading counters write); the page's read beacon then records how far
they read (``POST /t/<id>/read``, the ``thread_reads`` upsert: the GET itself records
nothing), measured as a third row where each view is the page and its beacon. Prints
req/s and p50/p99 at 1 and 8 connections with the load average; asserts nothing about
time.
"""

import os
import re

import requests

from tests.bench.common import database_uri, get_ok, hammer, load_average, serve

MEMBERS = 8
PASSWORD = "bench passphrase kept"
CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


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
        token = CSRF_RE.search(page).group(1)
        n = next(counter) % MEMBERS
        done = session.post(
            server("/login"),
            data={"username": f"reader{n}", "password": PASSWORD, "csrf_token": token},
            allow_redirects=False,
        )
        assert done.status_code in (302, 303), done.status_code
        return session

    return make


def page_and_beacon(session: requests.Session, url: str) -> bool:
    """One member view: the thread page, then its read beacon for the last post."""
    page = session.get(url, timeout=30)
    token = CSRF_RE.search(page.text)
    if page.status_code != 200 or token is None:
        return False
    done = session.post(
        f"{url}/read",
        data={"position": "20", "csrf_token": token.group(1)},
        headers={"Accept": "application/json", "X-CSRFToken": token.group(1)},
        timeout=30,
    )
    return done.status_code == 200 and done.json().get("last_read_position") == 20


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
        for label, factory, fetch in (
            ("visitor", requests.Session, get_ok),
            ("member", signed_in(server), get_ok),
            ("member, page + beacon", signed_in(server), page_and_beacon),
        ):
            for concurrency in (1, 8):
                figures = hammer(
                    [url],
                    concurrency=concurrency,
                    seconds=seconds,
                    session_factory=factory,
                    fetch=fetch,
                )
                print(
                    f"thread page, 20 posts, {label:>21}, c={concurrency}: "
                    f"{figures['rps']:7.1f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
                    f"p99 {figures['p99_ms']:6.1f} ms  errors {figures['errors']}  ({engine})  "
                    f"[{load_average()}]"
                )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
