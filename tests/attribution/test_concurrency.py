"""Attribution under real concurrency: payments racing each other, each thread with its own
connection and transaction on committed data (SQLite's WAL file, or PostgreSQL with
``PLAZA_TEST_DATABASE_URL``).

A payment records its order's conversion in its own transaction (ON CONFLICT DO NOTHING on
the conversion's key) and the buyer's first purchase with the shop only when it found no
other order conversion of theirs: the proof is in the tables afterwards, exactly one
conversion per paid order, credited to the post that was clicked, and exactly one first
purchase, however the payments interleave.
"""

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.attribution.models import Commission, Conversion, Credit
from forum.board.models import Post
from forum.extensions import db
from forum.shop_embed import service
from forum.shop_embed.models import Order
from tests.attribution.conftest import click, set_rates
from tests.attribution.test_shop_integration import href_in
from tests.conftest import app_context, login
from tests.fixtures.concurrency import run_threads, small_pool
from tests.fixtures.shop import ADDRESS

pytestmark = pytest.mark.xdist_group("attribution-concurrency")

ORDERS = 8
CPS_BP, FIRST_PURCHASE = 1000, 100


@pytest.fixture
def config_overrides():
    return small_pool(SHOP_MAX_PENDING_ORDERS=ORDERS)


@pytest.fixture
def journey(app, make_shop, make_product, make_user, make_thread):
    """A reader who clicked a post's product widget and then placed ``ORDERS`` orders of it
    (committed, unpaid): (reader id, order ids, post id, author id, merchant user id)."""
    shop = make_shop("acme", shipping_fee_cents=500, free_from=None)
    product_id = make_product(shop, "Kettle", price_cents=1250, stock=100)
    set_rates(app, shop.user, cps_rate_bp=CPS_BP, first_purchase=FIRST_PURCHASE)
    author, reader = make_user("writer"), make_user("reader")
    thread_id = make_thread(author, title="Look", body=f"See:\n\n[[product:{product_id}]]")
    with app_context(app):
        post_id = db.session.scalar(
            select(Post.id).where(Post.thread_id == thread_id, Post.position == 1)
        )
    browser = app.test_client()
    login(browser, reader)
    click(browser, href_in(app, post_id, "product", product_id))
    order_ids = []
    with app_context(app), app.test_request_context("/"):
        user = db.session.get(User, reader.id)
        for _ in range(ORDERS):
            order, _ = service.place_order(user, [(product_id, 1)], shipping_address=ADDRESS)
            order_ids.append(order.id)
        db.session.commit()
    return reader.id, order_ids, post_id, author.id, shop.user.id


def _pay(order_id: int, buyer_id: int) -> str:
    service.pay(db.session.get(User, buyer_id), service.find_order(order_id), "sandbox")
    return "ok"


def test_a_buyers_orders_paid_at_once_convert_once_each_and_make_one_first_purchase(app, journey):
    reader_id, order_ids, post_id, author_id, merchant_id = journey

    results, errors = run_threads(app, ORDERS, lambda i: _pay(order_ids[i], reader_id))

    assert errors == [] and results == ["ok"] * ORDERS
    with app_context(app):
        sales = db.session.scalars(
            select(Conversion).where(Conversion.kind == "order").order_by(Conversion.order_id)
        ).all()
        assert [c.order_id for c in sales] == sorted(order_ids)
        assert all(c.customer_id == reader_id and not c.direct for c in sales)
        firsts = db.session.scalars(
            select(Conversion).where(Conversion.kind == "first_purchase")
        ).all()
        assert len(firsts) == 1 and firsts[0].order_id in order_ids
        assert firsts[0].key == f"first_purchase:{merchant_id}:{reader_id}"
        credits = db.session.execute(select(Credit.conversion_id, Credit.source_id)).all()
        assert sorted(credits) == sorted((c.id, post_id) for c in [*sales, *firsts])
        earned = db.session.execute(
            select(Commission.conversion_id, Commission.amount_cents, Commission.author_id)
        ).all()
        total = 1250 + 500
        assert sorted(earned) == sorted(
            [(c.id, total * CPS_BP // 10_000, author_id) for c in sales]
            + [(firsts[0].id, FIRST_PURCHASE, author_id)]
        )
        stamped = db.session.scalars(select(Order.source_id).where(Order.id.in_(order_ids)))
        assert set(stamped) == {post_id}


def test_one_order_paid_by_many_requests_at_once_is_one_sale_and_one_conversion(app, journey):
    reader_id, order_ids, *_ = journey
    order_id = order_ids[0]

    results, errors = run_threads(app, ORDERS, lambda i: _pay(order_id, reader_id))

    assert errors == []
    assert results.count("ok") == 1 and results.count("already_paid") == ORDERS - 1
    with app_context(app):
        made = db.session.execute(select(Conversion.kind, Conversion.order_id)).all()
        assert sorted(made) == [("first_purchase", order_id), ("order", order_id)]
        assert db.session.scalar(select(func.count()).select_from(Commission)) == 2
