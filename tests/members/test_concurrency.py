"""One member's whole store credit raced by 30 checkouts, each on its own connection.

Runs on SQLite (a WAL file) and on PostgreSQL (``PLAZA_TEST_DATABASE_URL``). The proof is
in the database: exactly one order used the credit, the balance never went negative, and
the wallet equals the ledger sum.
"""

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.extensions import db
from forum.shop_embed import service
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.fixtures.concurrency import small_pool
from tests.fixtures.shop import ADDRESS

from .conftest import give_credit, wallet

RACERS = 30
pytestmark = pytest.mark.xdist_group("shop-concurrency")


@pytest.fixture
def config_overrides():
    return small_pool(SHOP_MAX_PENDING_ORDERS=100, SHOP_MAX_HELD_UNITS=100, RATELIMIT_ENABLED=False)


def test_thirty_checkouts_spend_one_members_credit_once(
    app, make_product, shop, make_user, admin, race
):
    product = make_product(shop, price_cents=2000, stock=100)
    bea = make_user("bea")
    give_credit(app, admin, bea, 1500)

    def work(index):
        buyer = db.session.get(User, bea.id)
        order = service.checkout(
            buyer,
            [(product, 1)],
            address=dict(ADDRESS),
            provider="sandbox",
            choices={"use_credit_cents": 1500},
        )
        return order.id

    results, errors = race(RACERS, work)
    assert not errors, errors
    placed = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(placed) == 1, results
    assert set(refused) == {"insufficient_credit"}
    balances = wallet(app, bea.id)  # asserts wallet == ledger sums
    assert balances["wallet_credit"] == 0 and balances["credit"] == 0
    with app_context(app):
        orders = db.session.scalars(select(Order).where(Order.buyer_id == bea.id)).all()
        assert len(orders) == 1 and orders[0].credit_used_cents == 1500
        assert orders[0].total_cents == 2000 + 500 - 1500
        from forum.members.models import LedgerEntry

        spends = db.session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.reason == "order_payment")
        )
        assert spends == 1
        db.session.remove()
