"""Browser: a member with one completed order applies the second-purchase coupon at checkout,
sees the discount before paying, and the order keeps it."""

import pytest

from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import check_out_with_the_sandbox, log_in, open_shop
from tests.shop_embed.conftest import ADDRESS

pytestmark = pytest.mark.e2e


def test_second_purchase_coupon_on_the_checkout_page(app, live_server, new_page, make_user):
    from forum.accounts.models import User
    from forum.members.coupons import service as coupons
    from forum.shop_embed import service as shop

    seller = make_user("acme_store", role="merchant")
    product_id = open_shop(
        app, seller, name="Trail shoes", price_cents=8000, stock=10, shipping_fee_cents=500
    )
    admin = make_user("boss", role="admin")
    bea = make_user("bea")
    with app_context(app), app.test_request_context("/"):
        coupons.create_coupon(
            db.session.get(User, admin.id),
            code="COMEBACK15",
            kind="percent",
            value=1500,
            completed_orders=1,
        )
        member = db.session.get(User, bea.id)
        first = shop.checkout(member, [(product_id, 1)], address=ADDRESS, provider="sandbox")
        shop.ship(db.session.get(User, seller.id), first)
        shop.complete(member, first)
        db.session.commit()

    # A phone first only applies it (nothing is placed); the desktop then buys.
    for width in (390, 1280):
        page = new_page(width=width)
        log_in(page, live_server, bea.username, bea.password)
        page.goto(live_server(f"/shop/checkout?product={product_id}&quantity=1"))
        summary = page.locator(".checkout-summary")
        assert "$85.00" in summary.inner_text()  # 80.00 + 5.00 shipping
        page.fill("#coupon_code", "comeback15")
        page.locator("[data-apply-coupon]").click()
        page.locator('[data-adjustment="coupon"]').wait_for()
        text = summary.inner_text()
        assert "Coupon COMEBACK15 (−15%)" in text
        assert "$73.00" in page.locator("[data-checkout-total]").inner_text()  # 80 - 12 + 5
        page.screenshot(path=f"test-artifacts/coupon-checkout-{width}.png", full_page=True)
        if width == 390:
            continue
        check_out_with_the_sandbox(page)
        assert "Coupon COMEBACK15 (−15%)" in page.inner_text("main")
        assert "$73.00" in page.inner_text("main")
        assert page.console_errors == []

    # The admin sees the use on the coupon's page.
    boss = new_page()
    log_in(boss, live_server, admin.username, admin.password)
    boss.goto(live_server("/admin/coupons"))
    assert "COMEBACK15" in boss.locator("[data-coupon-list]").inner_text()
    boss.screenshot(path="test-artifacts/coupon-admin-list.png", full_page=True)
    boss.goto(live_server("/coupons/COMEBACK15"))
    assert boss.locator("[data-uses]").inner_text() == "1"
    assert "bea" in boss.inner_text("main") and "$12.00" in boss.inner_text("main")
    boss.screenshot(path="test-artifacts/coupon-detail.png", full_page=True)
    assert boss.console_errors == []
