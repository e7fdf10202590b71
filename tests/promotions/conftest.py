"""Promotion fixtures: a shop with a product, group-buys and snap-ups made through the API."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context

# The shop's fixtures (make_shop, make_product, shop, buyer, buyer_headers) come from the
# tests.fixtures.shop plugin, loaded for every test by tests/conftest.py.


def later(**delta) -> str:
    return (now() + timedelta(**delta)).isoformat()


@pytest.fixture
def product(shop, make_product):
    """Trail shoes at 89.00, 50 in stock."""
    return make_product(shop, "Trail shoes", price_cents=8900, stock=50)


@pytest.fixture
def make_group_buy(client, shop):
    def create(product_id, **fields) -> dict:
        body = {
            "product_id": product_id,
            "group_price_cents": 5900,
            "team_size": 3,
            "team_window_minutes": 60,
            "ends_at": later(days=3),
            **fields,
        }
        response = client.post("/api/v1/group-buys", json=body, headers=shop.headers)
        assert response.status_code == 201, response.json
        return response.json

    return create


@pytest.fixture
def make_snap(client, shop):
    def create(product_id, **fields) -> dict:
        body = {
            "product_id": product_id,
            "price_cents": 4900,
            "stock": 5,
            "per_user_limit": 2,
            "starts_at": later(seconds=-1),
            "ends_at": later(hours=2),
            **fields,
        }
        response = client.post("/api/v1/snaps", json=body, headers=shop.headers)
        assert response.status_code == 201, response.json
        return response.json

    return create


@pytest.fixture
def members(make_user, token_for):
    """``members(n)`` -> n (UserRef, headers) pairs."""
    made = []

    def create(count: int, prefix: str = "member"):
        start = len(made)
        for index in range(start, start + count):
            user = make_user(f"{prefix}{index:03d}")
            made.append((user, token_for(user)))
        return made[start:]

    return create


def promo_counts(app) -> dict:
    """Rows per promotion and shop table plus product stock: to assert "nothing was written"."""
    from forum.promotions.models import GroupBuy, Snap, SnapBuyer, SnapPurchase, Team, TeamMember
    from forum.shop_embed.models import Order, OrderEvent, Payment, Product, StockReservation

    with app_context(app):
        db.session.remove()
        result = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                GroupBuy,
                Team,
                TeamMember,
                Snap,
                SnapBuyer,
                SnapPurchase,
                Order,
                OrderEvent,
                StockReservation,
                Payment,
            )
        }
        result["stock"] = dict(db.session.execute(select(Product.id, Product.stock)).all())
        result["teams"] = dict(db.session.execute(select(Team.id, Team.members)).all())
        result["snaps"] = dict(db.session.execute(select(Snap.id, Snap.stock_left)).all())
        result["bought"] = {
            (row.snap_id, row.user_id): row.bought
            for row in db.session.scalars(select(SnapBuyer)).all()
        }
        db.session.remove()
        return result


def snap_conservation(app, snap_id: int) -> dict:
    """initial = stock_left + units in paid orders + units in pending orders (from the database)."""
    from forum.promotions.models import Snap, SnapPurchase
    from forum.shop_embed.models import Order

    with app_context(app):
        db.session.remove()
        snap = db.session.get(Snap, snap_id)
        rows = db.session.execute(
            select(Order.status, func.coalesce(func.sum(SnapPurchase.quantity), 0))
            .join(SnapPurchase, SnapPurchase.order_id == Order.id)
            .where(SnapPurchase.snap_id == snap_id)
            .group_by(Order.status)
        ).all()
        by_status = {status: int(units) for status, units in rows}
        sold = sum(by_status.get(s, 0) for s in ("paid", "shipped", "completed"))
        pending = by_status.get("pending", 0)
        result = {"initial": snap.stock, "left": snap.stock_left, "sold": sold, "pending": pending}
        db.session.remove()
    assert result["left"] >= 0
    assert result["initial"] == result["left"] + sold + pending, result
    return result
