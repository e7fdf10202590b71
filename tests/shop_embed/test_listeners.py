"""Order events reach ``signals.order_changed`` receivers inside the transaction (attribution, promotions plug in here)."""

import pytest

from forum import signals
from forum.accounts.models import User
from forum.errors import Conflict
from forum.extensions import db
from forum.shop_embed import service
from forum.shop_embed.models import Order, OrderEvent

from .conftest import ADDRESS, counts


@pytest.fixture
def heard():
    seen = []

    def listener(order, event):
        seen.append((order.id, event.type, event.from_status, event.to_status, order.status))

    signals.order_changed.connect(listener)
    signals.order_changed.connect(listener)  # twice: still called once
    yield seen
    signals.order_changed.disconnect(listener)


def test_every_change_is_recorded_and_heard(app, shop, make_product, buyer, heard):
    product_id = make_product(shop, stock=5)
    with app.test_request_context("/"):
        user = db.session.get(User, buyer.id)
        merchant = db.session.get(User, shop.user.id)
        order, _ = service.place_order(user, [(product_id, 2)], shipping_address=ADDRESS)
        service.pay(user, order, "sandbox")
        service.ship(merchant, order, tracking="T-1")
        service.complete(user, order)
        service.refund(merchant, order, reason="return")
        db.session.commit()
        order_id = order.id
        stored = db.session.scalars(
            db.select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        ).all()
    expected = [
        ("placed", None, "pending"),
        ("paid", "pending", "paid"),
        ("shipped", "paid", "shipped"),
        ("completed", "shipped", "completed"),
        ("refunded", "completed", "refunded"),
    ]
    assert [(e.type, e.from_status, e.to_status) for e in stored] == expected
    assert [(h[1], h[2], h[3]) for h in heard] == expected
    assert all(h[0] == order_id for h in heard)
    assert heard[-1][4] == "refunded"  # listeners see the order in its new state


def test_a_listener_can_refuse_a_change_and_nothing_is_written(
    app, client, shop, make_product, buyer
):
    product_id = make_product(shop, stock=5)

    def veto(order, event):
        if event.type == "paid":
            raise Conflict("The campaign is closed.", code="campaign_closed")

    with app.test_request_context("/"):
        order, _ = service.place_order(db.session.get(User, buyer.id), [(product_id, 1)])
        db.session.commit()
        order_id = order.id
    before = counts(app)
    signals.order_changed.connect(veto)
    try:
        with app.test_request_context("/"):
            order = db.session.get(Order, order_id)
            with pytest.raises(Conflict):
                service.pay(db.session.get(User, buyer.id), order, "sandbox")
            db.session.rollback()
    finally:
        signals.order_changed.disconnect(veto)
    assert counts(app) == before


def test_the_source_is_recorded_once(app, shop, make_product, make_user, buyer, heard):
    product_id = make_product(shop)
    author = make_user("author")
    with app.test_request_context("/"):
        order, _ = service.place_order(db.session.get(User, buyer.id), [(product_id, 1)])
        assert service.set_source(order, "post", 41, author.id) is True
        assert service.set_source(order, "message", 99, buyer.id) is False
        db.session.commit()
        assert (order.source_kind, order.source_id, order.source_author_id) == (
            "post",
            41,
            author.id,
        )
    assert [h[1] for h in heard] == ["placed", "source_set"]
