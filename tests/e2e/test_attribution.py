"""Browser: a reader follows a widget in a post and converts; the merchant's report shows that post.

A product card bought through (CPS) and an [[event:ID]] card sponsored by a merchant (CPA).
"""

from datetime import timedelta

import pytest

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import check_out_with_the_sandbox, log_in, open_shop

pytestmark = pytest.mark.e2e


def _sponsored_event_in_a_thread(app, make_user, make_thread):
    from forum.accounts.models import User
    from forum.attribution import service as attribution
    from forum.events import service as events

    sponsor, host, author = (
        make_user("tastyshop", role="merchant"),
        make_user("hostess"),
        make_user("foodie"),
    )
    with app_context(app), app.test_request_context("/"):
        attribution.update_settings(
            db.session.get(User, sponsor.id), cpa_cents={"event_signup": 250}
        )
        starts = now() + timedelta(days=3)
        event = events.create_event(
            db.session.get(User, host.id),
            title="Cheese tasting",
            description="Six cheeses, one evening.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="Market hall",
            capacity=20,
            sponsor_id=sponsor.id,
        )
        events.accept_sponsorship(db.session.get(User, sponsor.id), event)  # the merchant's act
        db.session.commit()
        event_id = event.id
    thread_id = make_thread(
        author, title="Anyone going to the tasting?", body=f"Looks great:\n\n[[event:{event_id}]]"
    )
    return sponsor, event_id, thread_id


def _reader_on(live_server, new_page, reader, thread_id: int, width: int = 1280):
    """A logged-in reader's page showing the thread."""
    page = new_page(width, 900 if width > 500 else 844)
    log_in(page, live_server, reader.username, reader.password)
    page.goto(live_server(f"/t/{thread_id}"))
    return page


def test_reader_follows_an_event_card_signs_up_and_the_sponsor_sees_the_post(
    app, live_server, new_page, make_user, make_thread
):
    sponsor, event_id, thread_id = _sponsored_event_in_a_thread(app, make_user, make_thread)
    page = _reader_on(live_server, new_page, make_user("reader"), thread_id)
    title = page.locator("[data-event-card] a.event-card-title")
    assert title.get_attribute("href").startswith("/go/")
    title.click()
    page.wait_for_url(live_server(f"/events/{event_id}"))
    page.locator("[data-event-signup-page]").click()
    page.wait_for_selector(".flash-success")

    merchant = new_page()
    log_in(merchant, live_server, sponsor.username, sponsor.password)
    merchant.goto(live_server("/merchant/attribution"))
    merchant.wait_for_selector("#attr-funnel-chart[data-ready=true]")
    row = merchant.locator(".attr-table tbody tr", has_text="Anyone going to the tasting?")
    cells = row.locator("td")
    assert cells.nth(2).inner_text() == "1"  # clicks
    assert cells.nth(4).inner_text() == "1"  # actions
    assert row.locator("[data-col=commission]").inner_text() == "$2.50"
    assert merchant.locator("[data-total=commission]").inner_text() == "$2.50"
    assert int(merchant.locator("[data-total=impressions]").inner_text()) >= 1

    merchant.goto(live_server("/merchant/attribution?group_by=offer"))
    assert merchant.locator(".attr-table tbody tr", has_text="Cheese tasting").count() == 1
    assert page.console_errors == [] and merchant.console_errors == []


def test_the_author_sees_what_their_post_earned(app, live_server, new_page, make_user, make_thread):
    sponsor, event_id, thread_id = _sponsored_event_in_a_thread(app, make_user, make_thread)
    page = _reader_on(live_server, new_page, make_user("reader"), thread_id, width=390)
    page.locator("[data-event-card] a.event-card-title").click()
    page.wait_for_url(live_server(f"/events/{event_id}"))
    page.locator("[data-event-signup-page]").click()
    page.wait_for_selector(".flash-success")

    author = new_page(390, 844)
    log_in(author, live_server, "foodie", "correct horse battery")
    author.goto(live_server("/me/earnings"))
    assert "Your posts earned $2.50" in author.locator("h1").inner_text()
    assert (
        author.locator(".attr-earnings tbody tr", has_text="Anyone going to the tasting?").count()
        == 1
    )
    assert author.console_errors == []


def test_reader_buys_from_a_product_card_and_the_merchant_report_shows_the_post(
    app, live_server, new_page, make_user, make_thread
):
    from forum.accounts.models import User
    from forum.attribution import service as attribution

    seller, author, reader = (
        make_user("acme_store", role="merchant"),
        make_user("trailfan"),
        make_user("bea"),
    )
    product_id = open_shop(
        app, seller, name="Trail shoes", price_cents=8900, stock=5, shipping_fee_cents=500
    )
    with app_context(app):
        attribution.update_settings(db.session.get(User, seller.id), cps_rate_bp=800)  # 8%
        db.session.commit()
    thread_id = make_thread(
        author,
        title="My trail shoes after 500 km",
        body=f"Still going strong:\n\n[[product:{product_id}]]",
    )

    page = _reader_on(live_server, new_page, reader, thread_id)
    card = page.locator(f'[data-product-card="{product_id}"]')
    assert card.locator("[data-buy]").get_attribute("href").startswith("/go/")
    card.get_by_role("link", name="Buy").click()
    page.wait_for_url(f"**/shop/p/{product_id}")
    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url("**/shop/checkout?product=*")
    check_out_with_the_sandbox(page)
    assert "Thank you, your order is paid!" in page.inner_text("main")
    assert "Found through a post" in page.inner_text(".timeline")

    merchant_page = new_page()
    log_in(merchant_page, live_server, seller.username, seller.password)
    merchant_page.goto(live_server("/merchant/attribution"))
    merchant_page.wait_for_selector("#attr-funnel-chart[data-ready=true]")
    row = merchant_page.locator(".attr-table tbody tr", has_text="My trail shoes after 500 km")
    assert row.count() == 1
    assert row.locator("td").nth(2).inner_text() == "1"  # clicks
    assert row.locator("[data-col=orders]").inner_text() == "1"
    # 8% of 89.00 + 5.00 shipping = 7.52
    assert row.locator("[data-col=commission]").inner_text() == "$7.52"
    assert merchant_page.locator("[data-total=orders]").inner_text() == "1"
    assert merchant_page.locator("[data-total=revenue]").inner_text() == "$94.00"

    # The author's profile says their posts sold; the order says which post it came from.
    merchant_page.goto(live_server(f"/u/{author.username}"))
    stat = merchant_page.locator(".profile-head .stats div", has_text="via posts")
    assert stat.locator("dt").text_content() == "Orders via posts"
    assert stat.locator("dd").text_content() == "1"
    assert page.console_errors == [] and merchant_page.console_errors == []


def test_signing_up_in_place_from_the_card_is_credited_to_the_post(
    app, live_server, new_page, make_user, make_thread
):
    from forum.attribution.models import Conversion

    sponsor, event_id, thread_id = _sponsored_event_in_a_thread(app, make_user, make_thread)
    page = _reader_on(live_server, new_page, make_user("reader"), thread_id)
    card = page.locator("[data-event-card]")
    card.locator("[data-event-signup]").click()
    card.locator(".event-state-in").wait_for()
    assert page.url == live_server(f"/t/{thread_id}")  # never left the thread
    with app_context(app):
        conversion = db.session.scalar(db.select(Conversion))
        assert (conversion.kind, conversion.direct) == ("event_signup", False)
        assert [c.source_kind for c in conversion.credits] == ["post"]
    assert page.console_errors == []
