"""board.service.describe_posts: the names other features' reports give posts."""

from forum.accounts.models import User
from forum.board import service
from forum.board.models import Post, Thread
from forum.extensions import db
from tests.conftest import app_context


def test_posts_are_named_by_their_thread_and_replies_by_their_number(app, make_user, make_thread):
    author = make_user("writer")
    thread_id = make_thread(author, title="Best kettles")
    with app_context(app), app.test_request_context("/"):
        thread = db.session.get(Thread, thread_id)
        reply = service.reply(db.session.get(User, author.id), thread, "Agreed")
        db.session.commit()
        first = db.session.scalar(
            db.select(Post.id).where(Post.thread_id == thread_id, Post.position == 1)
        )
        labels = service.describe_posts([first, reply.id, 999_999])
    assert labels == {first: "Best kettles", reply.id: "Best kettles (reply #1)"}
