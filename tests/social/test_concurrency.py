"""Races on committed data with many workers: one reaction per member and emoji however
many tabs click at once, and one draft row per member and thread however many autosaves
land together (run on PostgreSQL in CI; on the SQLite file here too)."""

import pytest

from forum.accounts.models import User
from forum.extensions import db
from forum.social import service
from forum.social.models import Draft, PostReaction
from tests.fixtures.concurrency import small_pool

WORKERS = 16


@pytest.fixture
def config_overrides():
    return small_pool()


def test_many_tabs_reacting_at_once_make_one_reaction(
    app, race, make_user, make_thread, first_post_id
):
    alice = make_user("alice")
    post_id = first_post_id(make_thread(alice))

    def work(_index):
        service.add_reaction(db.session.get(User, alice.id), post_id, "party")
        return "added"

    results, errors = race(WORKERS, work)
    assert errors == []
    assert results.count("added") == 1 and results.count("already_reacted") == WORKERS - 1
    with app.app_context():
        rows = db.session.scalar(db.select(db.func.count()).select_from(PostReaction))
        assert rows == 1
        assert service.reactions_of([post_id])[post_id][0].count == 1


def test_autosaves_landing_together_leave_one_draft_holding_one_of_the_texts(
    app, race, make_user, make_thread
):
    alice = make_user("alice")
    thread_id = make_thread(make_user("bob"))

    def work(index):
        service.save_draft(db.session.get(User, alice.id), f"text {index}", thread_id=thread_id)
        return index

    results, errors = race(WORKERS, work)
    assert errors == [] and sorted(results) == list(range(WORKERS))
    with app.app_context():
        drafts = db.session.scalars(db.select(Draft).where(Draft.user_id == alice.id)).all()
        assert len(drafts) == 1 and drafts[0].body in {f"text {i}" for i in range(WORKERS)}


def test_late_autosaves_racing_the_post_never_bring_the_draft_back(
    app, race, make_user, make_thread
):
    from forum.board import service as board
    from forum.board.models import Thread
    from forum.clock import now

    alice, bob = make_user("alice"), make_user("bob")
    thread_id = make_thread(bob)
    opened = now()  # the composer was opened before the post, as every racer's was

    def work(index):
        user = db.session.get(User, alice.id)
        if index == 0:
            board.reply(user, db.session.get(Thread, thread_id), "The finished reply")
            return "posted"
        service.save_draft(user, f"text {index}", thread_id=thread_id, opened_at=opened)
        return "saved"

    results, errors = race(WORKERS, work)
    assert errors == [] and results.count("posted") == 1
    # each save landed before the post (and was emptied by it) or after it (refused)
    assert set(results) <= {"posted", "saved", "draft_posted"}
    with app.app_context():
        (draft,) = db.session.scalars(db.select(Draft).where(Draft.user_id == alice.id)).all()
        assert draft.body == "" and draft.posted_at is not None
        assert service.find_draft(db.session.get(User, alice.id), thread_id=thread_id) is None
