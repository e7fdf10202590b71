"""Browser: two members form a team of two from a post's group-buy widget; both pages see it
succeed live. And a snap-up widget counts down on the server's clock, then sells."""

from datetime import timedelta

import pytest

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e
SNAP_STARTS_IN = 15


@pytest.fixture
def offers(app, make_user, make_thread):
    """A merchant's group-buy (teams of two) and snap-up, embedded in a member's thread."""
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
        group_buy = promotions.create_group_buy(
            user,
            product_id=product.id,
            group_price_cents=5900,
            team_size=2,
            team_window_minutes=60,
            ends_at=now() + timedelta(days=1),
        )
        snap = promotions.create_snap(
            user,
            product_id=product.id,
            price_cents=4900,
            stock=3,
            per_user_limit=1,
            # Long enough for two logins and page loads on a busy CI machine to see it upcoming.
            starts_at=now() + timedelta(seconds=SNAP_STARTS_IN),
            ends_at=now() + timedelta(hours=1),
        )
        db.session.commit()
        ids = group_buy.id, snap.id
    thread_id = make_thread(
        make_user("fan"),
        title="Who wants trail shoes?",
        body=f"Team up with me:\n\n[[groupbuy:{ids[0]}]]\n\nOr be quick:\n\n[[snap:{ids[1]}]]",
    )
    return ids[0], ids[1], thread_id


def widget(page, group_buy_id):
    return page.locator(f'[data-groupbuy="{group_buy_id}"]')


def wait_watching(page, room):
    page.locator(f'[data-live-room="{room}"][data-live-watching]').first.wait_for()


def test_two_members_form_a_team_from_a_post_and_both_see_it_succeed(
    live_server, new_page, make_user, offers
):
    group_buy_id, _, thread_id = offers
    alice, bob = make_user("alice"), make_user("bob")

    first = new_page()
    log_in(first, live_server, alice.username, alice.password)
    first.goto(live_server(f"/t/{thread_id}"))
    wait_watching(first, f"offer:groupbuy:{group_buy_id}")

    second = new_page()
    log_in(second, live_server, bob.username, bob.password)
    second.goto(live_server(f"/t/{thread_id}"))
    wait_watching(second, f"offer:groupbuy:{group_buy_id}")
    assert widget(second, group_buy_id).locator("[data-join-team]").count() == 0

    # Alice starts a team from the widget in the post.
    widget(first, group_buy_id).get_by_role("link", name="Start a team").click()
    widget(first, group_buy_id).locator(".team-mine.team-forming").wait_for()
    assert "1 more to go" in widget(first, group_buy_id).inner_text()

    # Bob's page shows her team live, and he joins it from his widget.
    join = widget(second, group_buy_id).locator("[data-join-team]")
    join.wait_for()
    assert "alice's team" in widget(second, group_buy_id).inner_text()
    join.click()

    # Both pages show the team succeeding, without reloading.
    for page in (first, second):
        done = widget(page, group_buy_id).locator(".team-mine.team-succeeded")
        done.wait_for()
        assert "Your team is complete" in done.inner_text()
        assert page.console_errors == []
    # Bob's order is confirmed at the group price, ready to pay.
    widget(second, group_buy_id).get_by_role("link", name="Your order").click()
    second.wait_for_url("**/shop/orders/*")
    assert "$59.00" in second.locator("main").inner_text()


def test_snap_widget_counts_down_then_sells(live_server, new_page, make_user, offers):
    _, snap_id, thread_id = offers
    buyer, watcher_user = make_user("carol"), make_user("dan")
    watcher = new_page()
    log_in(watcher, live_server, watcher_user.username, watcher_user.password)
    watcher.goto(live_server(f"/t/{thread_id}"))
    wait_watching(watcher, f"offer:snap:{snap_id}")

    page = new_page(390, 844)
    log_in(page, live_server, buyer.username, buyer.password)
    page.goto(live_server(f"/t/{thread_id}"))
    card = page.locator(f'[data-snap="{snap_id}"]')
    assert card.get_attribute("data-state") == "upcoming"
    assert "Starts in" in card.locator("[data-snap-clock]").inner_text()
    # The countdown reaches the start on the server's clock and the button comes alive.
    page.locator(f'[data-snap="{snap_id}"][data-state="live"]').wait_for(
        timeout=(SNAP_STARTS_IN + 10) * 1000
    )
    card.get_by_role("link", name="Snap it").click()
    card.locator("[data-promo-note]").get_by_role("link", name="Pay now").wait_for()
    # The other reader's widget shows the stock drop live.
    watcher.locator(f'[data-snap="{snap_id}"][data-stock-left="2"]').wait_for()
    assert watcher.locator(f'[data-snap="{snap_id}"] [data-stock-left]').inner_text() == "2"
    assert page.console_errors == [] and watcher.console_errors == []
