"""Browser: two members watch the same Dutch auction in a thread; the price drops live in
both pages on the server's clock; one takes a unit and the other sees the units left fall."""

from datetime import timedelta

import pytest

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def auction(app, make_user, make_thread):
    from forum.accounts.models import User
    from forum.promotions import service as promotions
    from forum.shop_embed import service as shop

    seller = make_user("acme_store", role="merchant")
    with app_context(app), app.test_request_context("/"):
        user = db.session.get(User, seller.id)
        shop.save_merchant_profile(
            user, name="Acme Store", slug="acme", logo_initials="AS", shipping_fee_cents=0
        )
        product = shop.create_product(
            user, name="Trail shoes", description="Grippy.", price_cents=8900, stock=10
        )
        item = promotions.create_auction(
            user,
            product_id=product.id,
            units=3,
            start_price_cents=5000,
            floor_price_cents=4000,
            drop_cents=100,
            drop_every_seconds=5,
            starts_at=now() - timedelta(seconds=1),
            per_user_limit=1,
        )
        db.session.commit()
        auction_id = item.id
    thread_id = make_thread(
        make_user("fan"), title="Falling prices", body=f"Watch this:\n\n[[auction:{auction_id}]]"
    )
    return auction_id, thread_id


def test_two_members_watch_the_price_drop_and_the_units_fall(
    live_server, new_page, make_user, auction
):
    auction_id, thread_id = auction
    room = f"offer:auction:{auction_id}"
    pages = []
    for name, size in (("carol", (1280, 900)), ("dan", (390, 844))):
        user = make_user(name)
        page = new_page(*size)
        log_in(page, live_server, user.username, user.password)
        page.goto(live_server(f"/t/{thread_id}"))
        page.locator(f'[data-live-room="{room}"][data-live-watching]').first.wait_for()
        pages.append(page)
    first, second = pages
    price = lambda page: page.locator(f'[data-auction="{auction_id}"] [data-auction-price]')  # noqa: E731
    units = lambda page: page.locator(f'[data-auction="{auction_id}"] [data-units-left]')  # noqa: E731
    start = [price(page).inner_text() for page in pages]
    if start[0] != start[1]:
        # A drop fell between the two page loads (a slow machine): the first page must
        # catch up live with the price the second page was served.
        first.wait_for_function(
            '([id, now]) => document.querySelector(`[data-auction="${id}"] [data-auction-price]`).textContent === now',
            arg=[auction_id, start[1]],
            timeout=12_000,
        )
        start = [price(page).inner_text() for page in pages]
    assert start[0] == start[1]
    # The next drop comes on the server's clock, in both pages.
    for page in pages:
        page.wait_for_function(
            '([id, before]) => document.querySelector(`[data-auction="${id}"] [data-auction-price]`).textContent !== before',
            arg=[auction_id, start[0]],
            timeout=12_000,
        )
    assert price(first).inner_text() != start[0]
    assert (
        "Next drop in"
        in first.locator(f'[data-auction="{auction_id}"] [data-auction-clock]').inner_text()
    )
    assert units(second).inner_text() == "3"
    first.locator(f'[data-auction="{auction_id}"] [data-auction-take]').click()
    first.locator(f'[data-auction="{auction_id}"] [data-promo-note]').get_by_role(
        "link", name="Pay now"
    ).wait_for()
    second.wait_for_function(
        "id => document.querySelector(`[data-auction=\"${id}\"] [data-units-left]`).textContent === '2'",
        arg=auction_id,
    )
    assert (
        "Last sale"
        in second.locator(f'[data-auction="{auction_id}"] [data-last-sale]').inner_text()
    )
    assert first.console_errors == [] and second.console_errors == []
