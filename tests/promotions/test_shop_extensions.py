"""The shop service's general additions that promotions use: price overrides, payment
windows and ``held`` orders (release_held / void_held / paying in advance)."""

from datetime import timedelta

import pytest
import time_machine

from forum.accounts.models import User
from forum.clock import now
from forum.errors import Conflict, ValidationFailed
from forum.extensions import db
from forum.shop_embed import service as shop_service
from forum.shop_embed.models import Order
from tests.fixtures.shop import ADDRESS, conservation


@pytest.fixture
def buyer_user(ctx, buyer):
    with ctx.test_request_context("/"):
        yield db.session.get(User, buyer.id)


def test_unit_prices_override_the_list_price(ctx, shop, product, buyer_user):
    order, _ = shop_service.place_order(buyer_user, [(product, 2)], unit_prices={product: 1000})
    assert (order.subtotal_cents, order.shipping_cents, order.total_cents) == (2000, 500, 2500)
    assert order.items[0].unit_price_cents == 1000


@pytest.mark.parametrize("prices", [{999: 10}, {1: -1}, {1: "10"}, {1: True}, [10]])
def test_bad_unit_prices_are_refused_before_anything_is_written(
    ctx, shop, product, buyer_user, prices
):
    with pytest.raises(ValidationFailed) as refused:
        shop_service.place_order(buyer_user, [(product, 1)], unit_prices=prices)
    assert "unit_prices" in refused.value.fields
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Order)) == 0


def test_pay_within_sets_the_payment_window(ctx, shop, product, buyer_user):
    order, _ = shop_service.place_order(buyer_user, [(product, 1)], pay_within=timedelta(minutes=3))
    assert order.expires_at - order.created_at == timedelta(minutes=3)


def test_a_held_order_is_released_to_pending_with_a_fresh_window(ctx, shop, product, buyer_user):
    order, _ = shop_service.place_order(
        buyer_user,
        [(product, 1)],
        held_until=now() + timedelta(hours=5),
        kind="groupbuy",
        shipping_address=ADDRESS,
    )
    assert order.status == "held" and shop_service.next_steps(buyer_user, order) == [
        "pay",
        "address",
    ]
    db.session.commit()
    with time_machine.travel(now() + timedelta(hours=1), tick=False):
        shop_service.release_held(order)
        db.session.commit()
        assert order.status == "pending"
        assert order.expires_at == now() + shop_service.payment_window()
        assert [e.type for e in shop_service.order_events(order)] == ["placed", "released"]
        with pytest.raises(Conflict):
            shop_service.release_held(order)  # not held any more
        db.session.rollback()
    conservation(ctx, product, 50)


def test_a_prepaid_held_order_is_released_as_paid_or_voided_as_refunded(
    ctx, shop, product, buyer_user
):
    first, _ = shop_service.place_order(
        buyer_user, [(product, 1)], held_until=now() + timedelta(hours=1), shipping_address=ADDRESS
    )
    second, _ = shop_service.place_order(
        buyer_user, [(product, 2)], held_until=now() + timedelta(hours=1), shipping_address=ADDRESS
    )
    for order in (first, second):
        shop_service.pay(buyer_user, order, "sandbox")
        assert order.status == "held" and shop_service.order_payment(order).status == "succeeded"
        with pytest.raises(Conflict) as twice:
            shop_service.pay(buyer_user, order, "sandbox")
        assert twice.value.code == "already_paid"
    db.session.commit()
    shop_service.release_held(first)
    shop_service.void_held(second, reason="team_failed")
    db.session.commit()
    assert (first.status, second.status) == ("paid", "refunded")
    assert shop_service.order_payment(second).status == "refunded"
    assert conservation(ctx, product, 50) == {"remaining": 49, "sold": 1, "held": 0}


def test_an_unpaid_held_order_is_voided_as_cancelled(ctx, shop, product, buyer_user):
    order, _ = shop_service.place_order(
        buyer_user, [(product, 3)], held_until=now() + timedelta(hours=1)
    )
    db.session.commit()
    for refused in (
        lambda: shop_service.cancel(buyer_user, order),
        lambda: shop_service.pay(buyer_user, order, "offline"),
    ):
        with pytest.raises(Conflict) as err:
            refused()
        assert err.value.code == "order_held"
        db.session.rollback()
    shop_service.void_held(order)
    db.session.commit()
    assert order.status == "cancelled"
    assert conservation(ctx, product, 50) == {"remaining": 50, "sold": 0, "held": 0}


def test_the_expiry_job_leaves_held_orders_to_their_owner(ctx, shop, product, buyer_user):
    order, _ = shop_service.place_order(
        buyer_user, [(product, 1)], held_until=now() + timedelta(minutes=5)
    )
    db.session.commit()
    with time_machine.travel(now() + timedelta(hours=1), tick=False):
        assert shop_service.expire_due_orders() == 0
        assert db.session.get(Order, order.id).status == "held"


def test_a_hold_must_end_in_the_future(ctx, shop, product, buyer_user):
    with pytest.raises(ValidationFailed):
        shop_service.place_order(
            buyer_user, [(product, 1)], held_until=now() - timedelta(seconds=1)
        )
