"""Pages run a fixed number of queries however many posts they show (no N+1)."""

from forum.accounts.models import User
from forum.board import service
from forum.board.models import Post, Thread
from forum.extensions import db
from tests.conftest import login


def add_replies(app, thread_id, authors, count):
    with app.app_context(), app.test_request_context("/"):
        thread = db.session.get(Thread, thread_id)
        first = db.session.scalar(
            db.select(Post).where(Post.thread_id == thread_id, Post.position == 1)
        )
        for n in range(count):
            user = db.session.get(User, authors[n % len(authors)].id)
            service.reply(
                user, thread, f"reply {n} to @{authors[0].username}", reply_to_id=first.id
            )
        db.session.commit()


def test_thread_page_queries_do_not_grow_with_posts(app, make_user, make_thread, count_queries):
    authors = [make_user(f"writer{n}") for n in range(4)]
    small, big = make_thread(authors[0]), make_thread(authors[0])
    add_replies(app, small, authors, 3)
    add_replies(app, big, authors, 19)
    client = app.test_client()
    login(client, authors[1])
    client.get("/no-such-page")  # the site's brand is read by the first page, then kept
    with count_queries() as few:
        assert client.get(f"/t/{small}").status_code == 200
    with count_queries() as many:
        assert client.get(f"/t/{big}").status_code == 200
    assert len(many) == len(few), (len(few), len(many))


def test_front_page_queries_do_not_grow_with_threads(app, make_user, make_thread, count_queries):
    authors = [make_user(f"writer{n}") for n in range(3)]
    make_thread(authors[0])
    client = app.test_client()
    client.get("/no-such-page")  # the site's brand is read by the first page, then kept
    with count_queries() as few:
        client.get("/")
    for n in range(12):
        make_thread(authors[n % 3], title=f"Another thread {n}")
    with count_queries() as many:
        client.get("/")
    assert len(many) == len(few), (len(few), len(many))
