"""`flask bench data`: the peer-shaped dataset, with every cached column as posting fills it."""

import json
import random

from sqlalchemy import func, select, text

from forum import benchdata, markup
from forum.accounts.models import User
from forum.board.models import Category, Post, Thread
from forum.extensions import db
from forum.search import service as search
from forum.search.schemas import SearchQuery


def test_bench_data_builds_the_peer_shape_consistently(app, runner, tmp_path):
    out = tmp_path / "targets.json"
    result = runner.invoke(
        args=["bench", "data", "--posts", "600", "--users", "30", "--workers", "2",
              "--targets", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    targets = json.loads(out.read_text())
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 600
        assert db.session.scalar(select(func.count()).select_from(Thread)) == 60
        # Each thread's counts and last post are what 600 replies would have left.
        for thread in db.session.scalars(select(Thread)):
            posts = db.session.scalars(
                select(Post).where(Post.thread_id == thread.id).order_by(Post.position)
            ).all()
            assert [p.position for p in posts] == list(range(1, len(posts) + 1))
            assert thread.post_count == len(posts) and thread.reply_count == len(posts) - 1
            assert thread.last_post_id == posts[-1].id
            assert thread.last_poster_id == posts[-1].author_id
            assert thread.last_activity_at == posts[-1].created_at
            assert thread.author_id == posts[0].author_id
            assert [p.created_at for p in posts] == sorted(p.created_at for p in posts)
        counted = dict(
            db.session.execute(select(Post.author_id, func.count()).group_by(Post.author_id)).all()
        )
        for user in db.session.scalars(select(User)):
            assert user.post_count == counted.get(user.id, 0)
        for category in db.session.scalars(select(Category)):
            threads = select(Thread.id).where(Thread.category_id == category.id)
            assert category.thread_count == db.session.scalar(
                select(func.count()).select_from(threads.subquery())
            )
            assert category.post_count == db.session.scalar(
                select(func.coalesce(func.sum(Thread.post_count), 0)).where(
                    Thread.category_id == category.id
                )
            )
        with app.test_request_context("/"):
            for post in db.session.scalars(select(Post).order_by(Post.id).limit(40)):
                assert post.body_html == markup.render(post.body).html
        fenced = db.session.scalar(select(func.count()).where(Post.body.contains("```")))
        assert 40 <= fenced <= 180  # ~18 % of 600
        # Search was filled from the board, and on PostgreSQL its GIN index, dropped for
        # the load, is back.
        with app.test_request_context("/"):
            rare = db.session.scalar(
                select(func.count()).where(Post.body.contains(targets["search_term"]))
            )
            found = search.search(SearchQuery(q=targets["search_term"]), limit=100)
            assert rare > 0 and len(found.items) == rare
            assert all(hit.type in ("post", "thread") for hit in found.items)
        if db.engine.dialect.name == "postgresql":
            indexes = db.session.scalars(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'search_documents'")
            )
            assert "ix_search_documents_fts" in set(indexes)
    client = app.test_client()
    for name, path in targets["paths"].items():
        assert client.get(path).status_code == 200, name
    login = {"username": targets["bench_users"][0], "password": targets["password"]}
    assert client.post("/login", data=login).status_code == 302


def test_bench_data_adds_beside_existing_rows_and_refuses_a_second_same_seed(app, runner):
    first = runner.invoke(args=["bench", "data", "--posts", "40", "--users", "5", "--workers", "1"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["bench", "data", "--posts", "40", "--users", "5", "--workers", "1"])
    assert again.exit_code != 0 and "exist already" in again.output
    other = runner.invoke(
        args=["bench", "data", "--posts", "40", "--users", "5", "--seed", "9", "--workers", "1"]
    )
    assert other.exit_code == 0, other.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 80
        assert db.session.scalar(select(func.count()).select_from(Category)) == 10


def test_bodies_are_the_same_for_a_seed_and_carry_the_rare_terms():
    names = ["alice001", "bob002"]
    assert benchdata.post_body(42, 7, names) == benchdata.post_body(42, 7, names)
    bodies = [benchdata.post_body(42, n, names) for n in range(1, 4001)]
    hits = sum("werkzeug" in body for body in bodies)
    assert 5 <= hits <= 45  # 0.5 % of 4,000 = 20
    mean = sum(map(len, bodies)) / len(bodies)
    assert 300 <= mean <= 600
    sizes = benchdata.thread_sizes(random.Random(1), 100, 1000)
    assert min(sizes) >= 1 and sum(sizes) == 1000 and max(sizes) > 3 * 10  # long tail
