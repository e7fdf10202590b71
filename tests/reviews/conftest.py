"""Review fixtures: a shop with a product, buyers whose orders are completed through the
shop's own service, and a way to count every review-related row ("nothing written")."""

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.extensions import db
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS

# make_shop, make_product and shop come from the shop's fixture plugin.


@pytest.fixture
def product(shop, make_product):
    return make_product(shop, "Trail Kettle", price_cents=2500, stock=100)


@pytest.fixture
def buy(app):
    """``buy(user, product_id, status="completed", address=ADDRESS)`` -> order id."""
    from forum.shop_embed import service as shop_service
    from forum.shop_embed.models import Order

    def run(user, product_id, *, status="completed", address=None, quantity=1, merchant=None):
        with app_context(app), app.test_request_context("/"):
            buyer = db.session.get(User, user.id)
            order, _ = shop_service.place_order(
                buyer, [(product_id, quantity)], shipping_address=address or ADDRESS
            )
            if status != "pending":
                shop_service.pay(buyer, order, "sandbox")
            if status in ("shipped", "completed"):
                seller = db.session.get(User, order.merchant.user_id)
                shop_service.ship(seller, order, tracking="T1")
            if status == "completed":
                shop_service.complete(buyer, order)
            db.session.commit()
            order_id = order.id
            assert db.session.get(Order, order_id).status == status
            return order_id

    return run


def write(app, user, product_id, **fields):
    """Call the service as ``user``; returns the review id (raises the service's error)."""
    from forum.reviews import service

    values = {"rating": 4, "title": "Solid kettle", "body": "Boils fast, **no** leaks."}
    values.update(fields)
    with app_context(app), app.test_request_context("/"):
        try:
            review = service.create_review(db.session.get(User, user.id), product_id, **values)
            db.session.commit()
            return review.id
        except Exception:
            db.session.rollback()
            raise


def review_rows(app) -> dict:
    """Rows per review table, ledger entries, and every product's aggregates."""
    from forum.members.models import LedgerEntry
    from forum.reviews.models import (
        ExperienceReport,
        Review,
        ReviewPhoto,
        ReviewRevision,
        ReviewVote,
        RewardGrant,
    )
    from forum.shop_embed.models import Product

    with app_context(app):
        db.session.remove()
        counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                Review,
                ReviewPhoto,
                ReviewRevision,
                ReviewVote,
                RewardGrant,
                ExperienceReport,
            )
        }
        counts["ledger"] = db.session.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(
                LedgerEntry.reason.like("%reward%")
                | LedgerEntry.reason.in_(("earn:review", "earn:report"))
            )
        )
        counts["ratings"] = {
            p.id: (p.rating_count, p.rating_sum, tuple(p.rating_histogram.values()))
            for p in db.session.scalars(select(Product))
        }
        db.session.remove()
        return counts


def aggregates(app, product_id: int) -> dict:
    """The stored aggregates next to a recount from the reviews themselves."""
    from forum.reviews import service
    from forum.shop_embed.models import Product

    with app_context(app):
        db.session.remove()
        product = db.session.get(Product, product_id)
        truth = service.computed_ratings(product_id)
        stored = {
            "count": product.rating_count,
            "sum": product.rating_sum,
            "avg": product.rating_avg,
            "histogram": product.rating_histogram,
        }
        db.session.remove()
    assert stored["count"] == truth["count"]
    assert stored["sum"] == truth["sum"]
    assert stored["histogram"] == {str(n): truth["histogram"].get(n, 0) for n in range(1, 6)}
    return stored


def points_of(app, user_id: int) -> tuple[int, int]:
    """(wallet points, ledger sum): always equal."""
    from forum.members import service as members
    from forum.members.models import Wallet

    with app_context(app):
        db.session.remove()
        wallet = db.session.get(Wallet, user_id)
        result = (wallet.points if wallet else 0, members.balance(user_id, "points"))
        db.session.remove()
    assert result[0] == result[1]
    return result


def png_bytes(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def no_order_points(app):
    """Completing an order also earns members' order points (tested in tests/members); the
    reward tests here count only what reviews pay, so that rule is switched off."""
    from forum.members.models import PointsRule

    with app.app_context():
        db.session.add(
            PointsRule(rule="order", label="Order", points=0, daily_cap=None, active=False)
        )
        db.session.commit()


@pytest.fixture
def report_category(app, make_category):
    """A category marked for experience reports (by the board's admin); its id."""
    from forum.board import service as board
    from forum.board.models import Category

    category_id = make_category("experiences", "Experience reports")
    with app.app_context(), app.test_request_context("/"):
        admin = db.session.scalar(select(User).where(User.username == "boardadmin"))
        board.set_experience_reports(admin, db.session.get(Category, category_id), True)
        db.session.commit()
    return category_id


def item_of(app, order_id):
    """The (first) order item id of ``order_id``."""
    from forum.shop_embed.models import OrderItem

    with app.app_context():
        return db.session.scalar(select(OrderItem.id).where(OrderItem.order_id == order_id))
