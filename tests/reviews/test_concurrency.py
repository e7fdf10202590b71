"""The same order item reviewed from 20 concurrent requests: one review, one reward.

Each request is a thread with its own connection and transaction on committed data
(a small pool, the rest queue); the proof is read back from the database. Runs on
SQLite (a WAL file) and on PostgreSQL (``PLAZA_TEST_DATABASE_URL``), where the
unique order item and the ledger's keys are what decide.
"""

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.extensions import db
from forum.members.models import LedgerEntry
from forum.reviews import service
from forum.reviews.models import Review, RewardGrant
from tests.fixtures.concurrency import run_threads, small_pool

from .conftest import aggregates, points_of

REQUESTS = 20
CONNECTIONS = 8
pytestmark = pytest.mark.xdist_group("reviews-concurrency")


@pytest.fixture
def config_overrides():
    # REVIEW_REWARD_CREDIT_CENTS: so both legs of the reward race
    return {**small_pool(CONNECTIONS), "REVIEW_REWARD_CREDIT_CENTS": 100}


def test_twenty_concurrent_reviews_of_one_order_item_make_one_review_and_one_reward(
    app, make_user, product, buy
):
    buyer = make_user("racer")
    order_id = buy(buyer, product)

    def attempt(index):
        service.create_review(
            db.session.get(User, buyer.id),
            product,
            order_id=order_id,
            rating=1 + index % 5,
            title=f"Attempt {index}",
            body="Same purchase, many tabs.",
        )
        return "ok"

    results, errors = run_threads(app, REQUESTS, attempt)
    assert errors == []
    assert results.count("ok") == 1
    assert results.count("already_reviewed") == REQUESTS - 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Review)) == 1
        assert db.session.scalar(select(func.count()).select_from(RewardGrant)) == 1
        paid = db.session.execute(
            select(LedgerEntry.account, LedgerEntry.amount).where(
                LedgerEntry.reason.in_(("earn:review", "review_reward"))
            )
        ).all()
        assert sorted(paid) == [("credit", 100), ("points", 20)]
    assert points_of(app, buyer.id) == (50 + 20, 50 + 20)
    assert aggregates(app, product)["count"] == 1


def test_concurrent_reviews_and_hides_of_one_product_never_drift(app, make_user, product, buy):
    """Twenty buyers review at once while a moderator hides the earlier ones: the
    stored aggregates equal a recount from the rows."""
    from forum.reviews.models import Review as ReviewRow
    from tests.shop_embed.conftest import ADDRESS

    buyers = [make_user(f"crowd{n:02d}") for n in range(REQUESTS)]
    mod = make_user("moddy", role="moderator")
    orders = [
        buy(b, product, address={**ADDRESS, "line1": f"{n} Crowd Lane"})
        for n, b in enumerate(buyers)
    ]

    def attempt(index):
        service.create_review(
            db.session.get(User, buyers[index].id),
            product,
            order_id=orders[index],
            rating=1 + index % 5,
            title="Crowd review",
            body="One of many.",
        )
        db.session.commit()
        if index % 4 == 0:  # a moderator hides some as they come in
            review = db.session.scalar(select(ReviewRow).where(ReviewRow.order_id == orders[index]))
            service.set_hidden(db.session.get(User, mod.id), review, True, "test")

    results, errors = run_threads(app, REQUESTS, attempt)
    assert errors == []
    assert results == [None] * REQUESTS  # no attempt was refused
    stored = aggregates(app, product)  # asserts stored == recount
    assert stored["count"] == REQUESTS - REQUESTS // 4
