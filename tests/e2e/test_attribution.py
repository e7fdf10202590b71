"""Browser: a reader follows a widget in a post and converts; the merchant's report shows that post.

Now: an [[event:ID]] card sponsored by a merchant (events are on main). The product-card
purchase flow is added once the shop is merged.
"""

from datetime import timedelta

import pytest

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import log_in

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
        db.session.commit()
        event_id = event.id
    thread_id = make_thread(
        author, title="Anyone going to the tasting?", body=f"Looks great:\n\n[[event:{event_id}]]"
    )
    return sponsor, event_id, thread_id


def test_reader_follows_an_event_card_signs_up_and_the_sponsor_sees_the_post(
    app, live_server, new_page, make_user, make_thread
):
    sponsor, event_id, thread_id = _sponsored_event_in_a_thread(app, make_user, make_thread)
    reader = make_user("reader")

    page = new_page()
    log_in(page, live_server, reader.username, reader.password)
    page.goto(live_server(f"/t/{thread_id}"))
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
    reader = make_user("reader")
    page = new_page(390, 844)
    log_in(page, live_server, reader.username, reader.password)
    page.goto(live_server(f"/t/{thread_id}"))
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
