"""Thread pages stay fast however deep: page 1 vs the last page of a 2,000-post thread.

python -m tests.bench pages      (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
"""

import os

from tests.bench.common import database_uri, hammer, serve


def build(uri: str, posts: int) -> int:
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
        }
    )
    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        admin = accounts.register(
            "benchadmin", "bench@example.com", "bench passphrase kept", role="admin"
        )
        category = board.create_category(admin, "bench", "Bench")
        thread = board.create_thread(admin, category, "A very long thread", "post 1")
        for n in range(2, posts + 1):
            board.reply(admin, thread, f"post {n} with **some** _markdown_")
            if n % 500 == 0:
                db.session.commit()
        db.session.commit()
        thread_id = thread.id
        db.engine.dispose()
    return thread_id


def main() -> None:
    posts = int(os.environ.get("BENCH_POSTS", "2000"))
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    uri = database_uri()
    thread_id = build(uri, posts)
    server = serve(uri)
    try:
        last_page = -(-posts // 20)
        for label, page in (("page 1", 1), (f"page {last_page} (last)", last_page)):
            figures = hammer(
                [server(f"/t/{thread_id}?page={page}")], concurrency=8, seconds=seconds
            )
            print(
                f"{label:>20}: {figures['rps']:7.1f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
                f"p99 {figures['p99_ms']:6.1f} ms  errors {figures['errors']}  ({uri.split(':')[0]})"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
