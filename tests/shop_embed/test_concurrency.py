"""Stock under real concurrency: many threads, each with its own connection, on committed data.

Runs on SQLite (a WAL file) and on PostgreSQL (``PLAZA_TEST_DATABASE_URL``). The
proof is in the database afterwards: exactly the stock was sold, nothing went
below zero, and initial = remaining + sold + active reservations.
"""

import random
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.clock import now
from forum.extensions import db
from forum.shop_embed import service
from forum.shop_embed.models import Order, Product
from tests.fixtures.concurrency import run_threads, small_pool

from .conftest import ADDRESS, conservation

THREADS = 50
pytestmark = pytest.mark.xdist_group("shop-concurrency")


@pytest.fixture
def config_overrides():
    return small_pool()


@pytest.fixture
def buyers(app, make_user):
    return [make_user(f"buyer{i:02d}").id for i in range(THREADS)]


def test_fifty_buyers_ten_units_exactly_ten_sales(app, shop, make_product, buyers):
    product_id = make_product(shop, stock=10)

    def buy(index):
        user = db.session.get(User, buyers[index])
        order, _ = service.place_order(user, [(product_id, 1)], shipping_address=ADDRESS)
        if index % 2 == 0:  # half of the winners pay at once, in their own transaction
            db.session.commit()
            service.pay(user, order, "sandbox")
        return "ok"

    results, errors = run_threads(app, THREADS, buy)
    assert errors == []
    assert results.count("ok") == 10
    assert results.count("insufficient_stock") == THREADS - 10
    with app.app_context():
        assert db.session.get(Product, product_id).stock == 0
        assert db.session.scalar(select(func.count()).select_from(Order)) == 10
    totals = conservation(app, product_id, 10)
    assert totals["remaining"] == 0 and totals["sold"] + totals["held"] == 10


def test_buyers_of_several_products_in_any_order_never_deadlock_or_oversell(
    app, shop, make_product, buyers
):
    """Carts of two products in both orders, while expired holds are released under contention."""
    first = make_product(shop, "First", stock=12)
    second = make_product(shop, "Second", stock=12)
    # Some earlier orders hold units, then their time runs out.
    with app.app_context(), app.test_request_context("/"):
        for index in range(4):
            service.place_order(db.session.get(User, buyers[index]), [(first, 2), (second, 1)])
        db.session.commit()

    with time_machine.travel(now() + timedelta(minutes=45), tick=False):
        rng = random.Random(5)
        plans = [
            rng.sample(
                [(first, rng.randint(1, 3)), (second, rng.randint(1, 3))], k=rng.choice([1, 2])
            )
            for _ in range(THREADS)
        ]

        def buy(index):
            if index == 0:
                return ("expired", service.expire_due_orders())
            order, _ = service.place_order(db.session.get(User, buyers[index]), plans[index])
            return "ok"

        results, errors = run_threads(app, THREADS, buy)
        assert errors == []
        assert set(results[1:]) <= {"ok", "insufficient_stock"}
        assert results.count("ok") > 0
        for product_id in (first, second):
            totals = conservation(app, product_id, 12)
            assert totals["sold"] == 0
        with app.app_context():
            stock = service.available_stock([first, second])
            assert all(units >= 0 for units in stock.values())


def test_concurrent_replays_of_one_idempotency_key_make_one_order(app, shop, make_product, buyer):
    product_id = make_product(shop, stock=100)
    count = 20

    def buy(index):
        order, replayed = service.place_order(
            db.session.get(User, buyer.id), [(product_id, 2)], idempotency_key="double-click"
        )
        return order.id

    results, errors = run_threads(app, count, buy)
    assert errors == []
    assert len(set(results)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert conservation(app, product_id, 100) == {"remaining": 98, "sold": 0, "held": 2}


def test_one_buyer_firing_many_orders_at_once_never_holds_more_than_the_cap(
    app, shop, make_product, buyer
):
    """The stock-hoarding finding: one account held all 300 units. Now, however many of
    its orders race, its unpaid units of each product stay within SHOP_MAX_HELD_UNITS."""
    cap = 7
    app.config.update(SHOP_MAX_HELD_UNITS=cap, SHOP_MAX_PENDING_ORDERS=1000)
    first = make_product(shop, "First", stock=300)
    second = make_product(shop, "Second", stock=300)
    rng = random.Random(11)
    plans = [
        rng.sample([(first, rng.randint(1, 3)), (second, rng.randint(1, 2))], k=rng.choice([1, 2]))
        for _ in range(THREADS)
    ]

    def buy(index):
        service.place_order(db.session.get(User, buyer.id), plans[index], shipping_address=ADDRESS)
        return "ok"

    results, errors = run_threads(app, THREADS, buy)
    assert errors == []
    assert set(results) <= {"ok", "too_many_held_units"}
    assert results.count("ok") > 0 and results.count("too_many_held_units") > 0
    for product_id in (first, second):
        totals = conservation(app, product_id, 300)
        assert totals["sold"] == 0
        assert totals["held"] <= cap, totals
        ordered = sum(
            qty
            for index, result in enumerate(results)
            if result == "ok"
            for pid, qty in plans[index]
            if pid == product_id
        )
        assert totals["held"] == ordered
