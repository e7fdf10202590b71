"""Browser: a member buys from a product card in a thread; another open page sees the stock drop live."""

import pytest
import requests

from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import check_out_with_the_sandbox, log_in, open_shop

pytestmark = pytest.mark.e2e


def wait_until_watching(page, product_id: int) -> None:
    """Wait until the page's card for ``product_id`` has joined its live room (shop.js marks it)."""
    page.locator(
        f'[data-live-room="offer:product:{product_id}"][data-live-watching]'
    ).first.wait_for()


@pytest.fixture
def card_thread(app, make_user, make_thread):
    """A merchant's product (stock 3) embedded in a member's thread."""
    product_id = open_shop(
        app,
        make_user("acme_store", role="merchant"),
        name="Trail shoes",
        price_cents=8900,
        stock=3,
        shipping_fee_cents=490,
    )
    thread_id = make_thread(
        make_user("fan"),
        title="Best trail shoes?",
        body=f"These have been great for me:\n\n[[product:{product_id}]]",
    )
    return product_id, thread_id


def test_buy_from_a_card_and_watch_stock_update_live(live_server, new_page, make_user, card_thread):
    product_id, thread_id = card_thread
    buyer = make_user("bea")

    watcher = new_page()
    watcher.goto(live_server(f"/t/{thread_id}"))
    watcher_card = watcher.locator(f'[data-live-room="offer:product:{product_id}"]')
    assert watcher_card.locator("[data-stock-text]").inner_text() == "Only 3 left"
    # The card has joined its offer room before anything is bought.
    wait_until_watching(watcher, product_id)

    page = new_page()
    log_in(page, live_server, buyer.username, buyer.password)
    page.goto(live_server(f"/t/{thread_id}"))
    card = page.locator(f'[data-live-room="offer:product:{product_id}"]')
    assert "Trail shoes" in card.inner_text() and "$89.00" in card.inner_text()
    card.get_by_role("link", name="Buy").click()

    page.wait_for_url(f"**/shop/p/{product_id}")
    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url("**/shop/checkout?product=*")
    assert "$93.90" in page.locator(".checkout-summary").inner_text()  # 89.00 + 4.90 shipping
    check_out_with_the_sandbox(page)
    assert "Thank you, your order is paid!" in page.inner_text("main")
    assert (
        "Trail shoes" in page.inner_text("main")
        and "PAID" in page.locator("[data-order-status]").inner_text()
    )

    page.get_by_role("link", name="My orders").click()
    page.wait_for_url("**/shop/orders")
    assert "Acme Store" in page.inner_text(".order-list") and "$93.90" in page.inner_text(
        ".order-list"
    )

    # The other page was never reloaded: its card now shows the new stock.
    watcher_card.locator("[data-stock-text]", has_text="Only 2 left").wait_for(timeout=10_000)
    assert watcher.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.console_errors == [] and watcher.console_errors == []


def test_a_sold_out_card_disables_its_buy_button_live(
    app, live_server, new_page, make_user, card_thread
):
    from forum.accounts import service as accounts
    from forum.accounts.models import User

    product_id, thread_id = card_thread
    watcher = new_page(width=390, height=844)
    watcher.goto(live_server(f"/t/{thread_id}"))
    wait_until_watching(watcher, product_id)
    buyer = make_user("bulk")
    with app_context(app):
        token = accounts.issue_token(db.session.get(User, buyer.id))
        db.session.commit()
    # Bought through the server's API: that process announces to the watching page.
    response = requests.post(
        live_server("/api/v1/orders"),
        json={"items": [{"product_id": product_id, "quantity": 3}]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    card = watcher.locator(f'[data-live-room="offer:product:{product_id}"]')
    card.locator("[data-stock-text]", has_text="Sold out").wait_for(timeout=10_000)
    assert "is-sold-out" in card.get_attribute("class")
    assert card.locator("[data-buy]").get_attribute("aria-disabled") == "true"
    assert watcher.console_errors == []
