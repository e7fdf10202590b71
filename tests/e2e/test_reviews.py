"""Browser: a buyer completes an order, follows the review invitation, posts a 4-star
review with a photo and sees the new average on the product card inside a thread.
Also screenshots the product page with reviews, desktop and 390 px."""

import pytest

from forum.accounts.models import User
from forum.extensions import db
from forum.shop_embed import service as shop
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.e2e.conftest import ARTIFACTS, check_out_with_the_sandbox, log_in, open_shop
from tests.reviews.conftest import png_bytes

pytestmark = pytest.mark.e2e


def test_buyer_reviews_from_the_invitation_and_the_card_shows_the_average(
    app, live_server, new_page, make_user, make_thread, tmp_path
):
    seller = make_user("acme_store", role="merchant")
    product_id = open_shop(
        app, seller, name="Trail shoes", price_cents=8900, stock=5, shipping_fee_cents=490
    )
    thread_id = make_thread(
        make_user("fan"), title="Best trail shoes?", body=f"Mine:\n\n[[product:{product_id}]]"
    )
    buyer = make_user("bea")
    page = new_page()
    log_in(page, live_server, buyer.username, buyer.password)
    page.goto(live_server(f"/t/{thread_id}"))
    card = page.locator(f'[data-product-card="{product_id}"]').first
    assert "No reviews yet" in card.inner_text()
    card.get_by_role("link", name="Buy").click()
    page.get_by_role("button", name="Buy now").click()
    check_out_with_the_sandbox(page)
    order_url = page.url.split("?")[0]

    with app_context(app), app.test_request_context("/"):  # the shop ships it
        order = db.session.scalar(db.select(Order).where(Order.buyer_id == buyer.id))
        shop.ship(db.session.get(User, seller.id), order, tracking="TRK1")
        db.session.commit()
    page.goto(order_url)
    page.get_by_role("button", name="I received it").click()
    page.wait_for_load_state()

    # The invitation is in the notifications, with the reward named.
    page.goto(live_server("/notifications/"))
    invitation = page.get_by_role("link", name="How was Trail shoes?")
    assert "20 points" in invitation.inner_text()
    invitation.click()
    page.wait_for_url("**/reviews/write?order_id=*")
    assert "You will earn 20 points" in page.inner_text("main")
    page.get_by_label("4 stars").check()
    page.fill("#title", "Grippy on wet rock")
    page.fill("#body", "Wore them on **three** muddy hikes: no slips, no blisters.")
    photo = tmp_path / "shoes.png"
    photo.write_bytes(png_bytes((30, 120, 60)))
    page.set_input_files("#photos", str(photo))
    page.get_by_role("button", name="Post review").click()
    page.wait_for_url(f"**/shop/p/{product_id}#review-*")
    review = page.locator("[data-review]").first
    assert "Grippy on wet rock" in review.inner_text()
    assert "Verified purchase" in review.inner_text() and "Rewarded review" in review.inner_text()
    assert review.locator(".review-photos img").count() == 1
    assert page.locator("[data-rating-avg]").inner_text() == "4.0"

    page.goto(live_server(f"/t/{thread_id}"))
    rating = page.locator(f'[data-product-card="{product_id}"] .rating-line').first
    assert rating.get_attribute("data-rating") == "4.0"
    assert "1 review" in rating.inner_text()
    assert page.console_errors == []

    ARTIFACTS.mkdir(exist_ok=True)
    for width, height, name in ((1280, 900, "desktop"), (390, 844, "mobile")):
        shot = new_page(width=width, height=height)
        log_in(shot, live_server, "fan", buyer.password)
        shot.goto(live_server(f"/shop/p/{product_id}"))
        shot.screenshot(path=str(ARTIFACTS / f"reviews-product-{name}.png"), full_page=True)
        overflow = shot.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{name}: the page scrolls sideways"
