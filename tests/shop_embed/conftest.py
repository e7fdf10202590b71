"""Shop fixtures: merchants with a profile, products made through the service, API helpers."""

from dataclasses import dataclass

import pytest

from forum.extensions import db
from tests.conftest import app_context


@dataclass(frozen=True)
class Shop:
    user: object  # UserRef of the merchant
    merchant_id: int
    headers: dict


@pytest.fixture
def make_shop(app, make_user, token_for):
    """A merchant user with a shop profile; returns Shop(user, merchant_id, headers)."""
    from forum.accounts.models import User
    from forum.shop_embed import service

    def create(
        username: str = "acme",
        *,
        shipping_fee_cents: int = 500,
        free_from: int | None = 5000,
        currency: str = "USD",
        offline_payments: bool = True,
    ) -> Shop:
        user = make_user(username, role="merchant")
        with app_context(app), app.test_request_context("/"):
            merchant = service.save_merchant_profile(
                db.session.get(User, user.id),
                name=username.title() + " Store",
                slug=username,
                logo_initials=username[:2].upper(),
                currency=currency,
                shipping_fee_cents=shipping_fee_cents,
                free_shipping_threshold_cents=free_from,
                offline_payments=offline_payments,
            )
            db.session.commit()
            merchant_id = merchant.id
        return Shop(user, merchant_id, token_for(user))

    return create


@pytest.fixture
def make_product(app):
    """A product of ``shop`` made through the service; returns its id."""
    from forum.accounts.models import User
    from forum.shop_embed import service

    def create(
        shop: Shop,
        name: str = "Widget",
        *,
        price_cents: int = 1250,
        stock: int = 10,
        description: str = "A **fine** widget.",
        active: bool = True,
    ) -> int:
        with app_context(app), app.test_request_context("/"):
            product = service.create_product(
                db.session.get(User, shop.user.id),
                name=name,
                description=description,
                price_cents=price_cents,
                stock=stock,
                active=active,
            )
            db.session.commit()
            return product.id

    return create


@pytest.fixture
def shop(make_shop):
    return make_shop("acme")


@pytest.fixture
def buyer(make_user):
    return make_user("buyer")


@pytest.fixture
def buyer_headers(buyer, token_for):
    return token_for(buyer)


def counts(app) -> dict:
    """Rows per shop table and the stock of every product: to assert "nothing was written"."""
    from sqlalchemy import func, select

    from forum.shop_embed.models import (
        Order,
        OrderEvent,
        OrderItem,
        Payment,
        Product,
        StockReservation,
    )

    with app_context(app):
        db.session.remove()
        result = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Product, Order, OrderItem, OrderEvent, StockReservation, Payment)
        }
        result["stock"] = dict(db.session.execute(select(Product.id, Product.stock)).all())
        db.session.remove()
        return result


# Where a test buyer's goods go: every order needs one before it is paid or shipped.
ADDRESS = {
    "name": "Bea Buyer",
    "line1": "1 Market St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


def order_body(*lines, address: bool = True) -> dict:
    body = {"items": [{"product_id": pid, "quantity": qty} for pid, qty in lines]}
    if address:
        body["shipping_address"] = dict(ADDRESS)
    return body


def conservation(app, product_id: int, initial: int) -> dict:
    """initial = remaining + sold + active reservations, straight from the database."""
    from forum.shop_embed import service
    from forum.shop_embed.models import Product

    with app_context(app):
        db.session.remove()
        remaining = db.session.get(Product, product_id).stock
        sold = service.sold_units(product_id)
        held = service.held_units(product_id)
        db.session.remove()
    assert remaining >= 0
    assert initial == remaining + sold + held, (initial, remaining, sold, held)
    return {"remaining": remaining, "sold": sold, "held": held}
