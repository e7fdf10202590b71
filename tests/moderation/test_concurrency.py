"""Twenty members flag the same post at once (each twice): one flag each, the score
counted once per flagger, one review item, the post auto-hidden exactly once. Runs on
SQLite (one writer at a time) and on PostgreSQL (row locks), where it is the proof."""

import pytest
from sqlalchemy import func, select

from forum.errors import Conflict
from forum.extensions import db
from forum.moderation.models import AuditEntry, Flag, ReviewItem
from tests.fixtures.concurrency import run_at_once, small_pool

from .helpers import first_post_id

CONNECTIONS = 8


@pytest.fixture
def config_overrides():
    return small_pool(CONNECTIONS)


def _flag_job(user_id: int, post_id: int, author_id: int):
    def job():
        from forum.accounts.models import User
        from forum.moderation import service

        flag = service.flag(
            db.session.get(User, user_id), "post", post_id, "spam", author_id=author_id
        )
        return flag.id

    return job


def test_twenty_members_flag_one_post_at_once(app, make_user, make_thread):
    from forum.board.models import Post

    author = make_user("author")
    post_id = first_post_id(app, make_thread(author, body="Cheap followers here"))
    members = [make_user(f"flagger{i}") for i in range(20)]
    jobs = [_flag_job(m.id, post_id, author.id) for m in members for _ in range(2)]
    outcomes = run_at_once(app, jobs)
    problems = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, Conflict)]
    assert problems == []
    assert sum(isinstance(o, int) for o in outcomes) == 20
    assert all(o.code == "already_flagged" for o in outcomes if isinstance(o, Conflict))
    with app.app_context():
        rows = db.session.execute(select(Flag.reporter_id, Flag.weight, Flag.item_id)).all()
        assert sorted(r.reporter_id for r in rows) == sorted(m.id for m in members)
        [item] = db.session.scalars(select(ReviewItem)).all()
        assert {r.item_id for r in rows} == {item.id}
        assert item.score == sum(r.weight for r in rows) == 200
        assert item.flag_count == 20 and item.auto_hidden and item.status == "pending"
        hides = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "post.auto_hide")
        )
        assert hides == 1
        assert db.session.get(Post, post_id).hidden_at is not None
