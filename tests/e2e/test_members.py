"""Browser: a shopper confirms the delivery that makes them VIP, sees "You are now VIP", and the
next checkout shows free freight and the pending 5% rebate before paying."""

import pytest

from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import check_out_with_the_sandbox, log_in, open_shop

pytestmark = pytest.mark.e2e


def _deliver(app, seller_id, buyer_id, product_id, *, complete: bool):
    from forum.accounts.models import User
    from forum.shop_embed import service

    address = {
        "name": "Bea Buyer",
        "line1": "1 Market Street",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    }
    with app_context(app), app.test_request_context("/"):
        order = service.checkout(
            db.session.get(User, buyer_id),
            [(product_id, 1)],
            address=address,
            provider="sandbox",
        )
        service.ship(db.session.get(User, seller_id), order)
        if complete:
            service.complete(db.session.get(User, buyer_id), order)
        db.session.commit()
        return order.id


def _ship_latest(app, seller_id, buyer_id):
    from sqlalchemy import select

    from forum.accounts.models import User
    from forum.shop_embed import service
    from forum.shop_embed.models import Order

    with app_context(app), app.test_request_context("/"):
        order = db.session.scalar(
            select(Order).where(Order.buyer_id == buyer_id).order_by(Order.id.desc()).limit(1)
        )
        service.ship(db.session.get(User, seller_id), order)
        db.session.commit()
        return order.id


def test_the_order_that_makes_a_shopper_vip(app, live_server, new_page, make_user):
    seller = make_user("acme_store", role="merchant")
    product_id = open_shop(
        app, seller, name="Trail shoes", price_cents=4000, stock=20, shipping_fee_cents=490
    )
    bea = make_user("bea")
    for _ in range(2):
        _deliver(app, seller.id, bea.id, product_id, complete=True)

    page = new_page()
    log_in(page, live_server, bea.username, bea.password)
    page.goto(live_server("/membership"))
    assert "Shopper" in page.locator("[data-tier]").inner_text()
    assert "1 more order" in page.locator("[data-missing]").inner_text()

    page.goto(live_server(f"/shop/checkout?product={product_id}&quantity=1"))
    summary = page.locator(".checkout-summary")
    assert "$44.90" in summary.inner_text()  # a shopper still pays the 4.90 freight
    check_out_with_the_sandbox(page)
    order_id = _ship_latest(app, seller.id, bea.id)
    page.goto(live_server(f"/shop/orders/{order_id}"))
    page.get_by_role("button", name="I received it").click()
    page.locator("[data-tier-change]").wait_for()
    assert "You are now VIP" in page.locator("[data-tier-change]").inner_text()

    page.goto(live_server(f"/shop/checkout?product={product_id}&quantity=1"))
    summary = page.locator(".checkout-summary")
    assert "VIP free shipping" in summary.inner_text()
    assert "−$4.90" in page.locator('[data-adjustment="free_shipping"]').inner_text()
    assert "$40.00" in page.locator("[data-checkout-total]").inner_text()
    rebate = page.locator("[data-rebate]").inner_text()
    assert "VIP rebate 5%" in rebate and "$2.00" in rebate
    check_out_with_the_sandbox(page)
    assert "$2.00" in page.locator("[data-rebate]").inner_text()  # pending on the order page
    for width in (1280, 390):
        shot = new_page(width=width)
        log_in(shot, live_server, bea.username, bea.password)
        shot.goto(live_server("/membership"))
        assert "VIP" in shot.locator("[data-tier]").inner_text()
    assert page.console_errors == []
