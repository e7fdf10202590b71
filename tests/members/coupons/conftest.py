"""Coupon test fixtures: a shop with a product, an admin, coupons made through the API,
orders walked to completion through the shop's service, and row counts for "nothing
was written". The shop here is the plugin's plain one (ships 5.00, free from 50.00),
not the members' flat-fee shop."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS


@pytest.fixture
def shop(make_shop):
    return make_shop("acme")


def later(**delta) -> str:
    return (now() + timedelta(**delta)).isoformat()


@pytest.fixture
def product(shop, make_product):
    """A 20.00 widget, 100 in stock (the shop ships for 5.00, free from 50.00)."""
    return make_product(shop, "Widget", price_cents=2000, stock=100)


@pytest.fixture
def admin(make_user):
    return make_user("boss", role="admin")


@pytest.fixture
def admin_headers(admin, token_for):
    return token_for(admin)


@pytest.fixture
def make_coupon(client):
    """POST /api/v1/coupons as ``headers``; returns the coupon JSON (asserts 201)."""

    def create(headers, code="SAVE10", **fields) -> dict:
        body = {"code": code, "kind": "percent", "value": 1000, **fields}
        response = client.post("/api/v1/coupons", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return create


@pytest.fixture
def complete_order(app, shop):
    """Walk a paid order of ``buyer`` for ``product_id`` to completed; returns its id."""
    from forum.accounts.models import User
    from forum.shop_embed import service

    def walk(buyer_ref, product_id, quantity=1, *, status="completed") -> int:
        with app_context(app), app.test_request_context("/"):
            user = db.session.get(User, buyer_ref.id)
            merchant = db.session.get(User, shop.user.id)
            order = service.checkout(
                user, [(product_id, quantity)], address=ADDRESS, provider="sandbox"
            )
            if status in ("shipped", "completed"):
                service.ship(merchant, order)
            if status == "completed":
                service.complete(merchant, order)
            db.session.commit()
            return order.id

    return walk


def coupon_rows(app) -> dict:
    """Rows of every coupon and order table and each coupon's counter."""
    from forum.members.coupons.models import Coupon, CouponMemberUse, CouponRedemption
    from forum.shop_embed.models import Order, OrderEvent, StockReservation

    with app_context(app):
        db.session.remove()
        result = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (CouponRedemption, CouponMemberUse, Order, OrderEvent, StockReservation)
        }
        result["uses"] = dict(db.session.execute(select(Coupon.code, Coupon.uses)).all())
        result["member_uses"] = sorted(
            db.session.execute(
                select(CouponMemberUse.coupon_id, CouponMemberUse.user_id, CouponMemberUse.uses)
            ).all()
        )
        db.session.remove()
        return result


def order_body(product_id, quantity=1, *, coupon=None, address=True) -> dict:
    body = {"items": [{"product_id": product_id, "quantity": quantity}]}
    if address:
        body["shipping_address"] = dict(ADDRESS)
    if coupon is not None:
        body["coupon_code"] = coupon
    return body
