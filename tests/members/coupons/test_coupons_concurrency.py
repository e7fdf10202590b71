"""Coupon uses under real concurrency: threads with their own connections on committed data.

Runs on SQLite (a WAL file) and on PostgreSQL (``PLAZA_TEST_DATABASE_URL``). The proof is
in the database afterwards: the counter equals the active redemptions, which equal the
discounted orders, and never exceed the coupon's uses.
"""

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.extensions import db
from forum.members.coupons.models import Coupon, CouponMemberUse, CouponRedemption
from forum.shop_embed import service
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.fixtures.concurrency import run_threads, small_pool
from tests.fixtures.shop import ADDRESS

THREADS = 50
pytestmark = pytest.mark.xdist_group("coupon-concurrency")


@pytest.fixture
def config_overrides():
    return small_pool()


def invariant(app, code: str) -> dict:
    """Counter = active redemptions = discounted live orders = the members' counters."""
    with app_context(app):
        db.session.remove()
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == code))
        active = db.session.scalar(
            select(func.count()).where(
                CouponRedemption.coupon_id == coupon.id, CouponRedemption.state == "active"
            )
        )
        discounted = [
            o
            for o in db.session.scalars(select(Order))
            if o.discount_cents > 0 and o.status not in ("cancelled", "refunded")
        ]
        member_sum = db.session.scalar(
            select(func.coalesce(func.sum(CouponMemberUse.uses), 0)).where(
                CouponMemberUse.coupon_id == coupon.id
            )
        )
        over_limit = db.session.scalar(
            select(func.count()).where(
                CouponMemberUse.coupon_id == coupon.id,
                CouponMemberUse.uses > coupon.per_user_limit,
            )
        )
        figures = {
            "uses": coupon.uses,
            "active": active,
            "discounted": len(discounted),
            "members": int(member_sum),
            "over_limit": over_limit,
            "orders": db.session.scalar(select(func.count()).select_from(Order)),
        }
        db.session.remove()
    assert figures["uses"] == figures["active"] == figures["discounted"] == figures["members"]
    assert figures["over_limit"] == 0
    return figures


def test_fifty_buyers_race_for_ten_uses_exactly_ten_discounted_orders(
    app, shop, make_product, make_user, admin_headers, make_coupon
):
    products = [make_product(shop, f"Widget {n}", price_cents=2000, stock=100) for n in range(5)]
    make_coupon(admin_headers, "RACE10", max_uses=10)
    buyers = [make_user(f"racer{i:02d}").id for i in range(THREADS)]

    def buy(index):
        user = db.session.get(User, buyers[index])
        order = service.checkout(
            user,
            [(products[index % len(products)], 1)],
            address=ADDRESS,
            provider="sandbox",
            choices={"coupon_code": "RACE10"},
        )
        return ("ok", order.discount_cents)

    results, errors = run_threads(app, THREADS, buy)
    assert errors == []
    assert results.count(("ok", 200)) == 10
    assert results.count("coupon_exhausted") == THREADS - 10
    figures = invariant(app, "RACE10")
    assert figures["uses"] == 10 and figures["discounted"] == 10 and figures["orders"] == 10


def test_one_member_racing_their_own_limit_gets_it_exactly(
    app, shop, make_product, make_user, admin_headers, make_coupon
):
    """Twenty tabs of one member with a coupon of two uses per member (and a generous
    stock and held-units cap): two orders get the discount, the rest are refused."""
    product = make_product(shop, "Widget", price_cents=2000, stock=100)
    make_coupon(admin_headers, "MINE2", per_user_limit=2)
    member = make_user("greedy").id
    app.config["SHOP_MAX_PENDING_ORDERS"] = 100
    app.config["SHOP_MAX_HELD_UNITS"] = 100

    def buy(index):
        order, _ = service.place_order(
            db.session.get(User, member),
            [(product, 1)],
            shipping_address=ADDRESS,
            choices={"coupon_code": "MINE2"},
        )
        return "ok"

    results, errors = run_threads(app, 20, buy)
    assert errors == []
    assert results.count("ok") == 2
    assert results.count("coupon_exhausted") == 18
    figures = invariant(app, "MINE2")
    assert figures["uses"] == 2 and figures["members"] == 2


def test_cancels_racing_new_claims_never_lose_or_double_a_use(
    app, shop, make_product, make_user, admin_headers, make_coupon
):
    """Ten holders cancel while forty newcomers claim: the counter stays the truth and
    nothing deadlocks (claims lock the coupon before products, as cancels do)."""
    product = make_product(shop, "Widget", price_cents=2000, stock=200)
    make_coupon(admin_headers, "SWAP", max_uses=10)
    holders = [make_user(f"holder{i}") for i in range(10)]
    order_ids = []
    with app_context(app), app.test_request_context("/"):
        for ref in holders:
            order, _ = service.place_order(
                db.session.get(User, ref.id),
                [(product, 1)],
                shipping_address=ADDRESS,
                choices={"coupon_code": "SWAP"},
            )
            order_ids.append(order.id)
        db.session.commit()
    newcomers = [make_user(f"new{i:02d}").id for i in range(40)]

    def act(index):
        if index < 10:
            user = db.session.get(User, holders[index].id)
            service.cancel(user, db.session.get(Order, order_ids[index]))
            return "cancelled"
        order, _ = service.place_order(
            db.session.get(User, newcomers[index - 10]),
            [(product, 1)],
            shipping_address=ADDRESS,
            choices={"coupon_code": "SWAP"},
        )
        return "ok"

    results, errors = run_threads(app, THREADS, act)
    assert errors == []
    assert results[:10] == ["cancelled"] * 10
    assert set(results[10:]) <= {"ok", "coupon_exhausted"}
    figures = invariant(app, "SWAP")
    assert figures["uses"] == results.count("ok") <= 10
