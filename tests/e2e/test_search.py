"""The search page in a real browser: typed, highlighted results and filters at desktop
and phone width, no horizontal scrolling, the type chips narrowing the results."""

from datetime import timedelta

import pytest

from forum.accounts.models import User
from forum.board import service as board
from forum.chat import service as chat
from forum.clock import now
from forum.events import service as events
from forum.extensions import db
from tests.conftest import app_context

pytestmark = pytest.mark.e2e


def _seed(app, make_user, make_thread, make_shop, make_product) -> None:
    alice = make_user("alice")
    thread = make_thread(
        alice,
        title="Which espresso grinder for a small kitchen?",
        body="I drink **espresso** daily and my blade grinder is loud. Any burr grinder tips?",
    )
    with app_context(app), app.test_request_context("/"):
        user = db.session.get(User, alice.id)
        board.reply(user, board.get_thread(thread), "A hand grinder makes great espresso for one.")
        starts = now() + timedelta(days=4)
        events.create_event(
            user,
            title="Espresso tasting morning",
            description="Three roasts, one **lever** machine.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="Riverside Café",
        )
        admin = db.session.get(User, make_user("chatboss", role="admin").id)
        room = chat.create_public_room(admin, "coffee", "Coffee")
        chat.send_message(user, room, "Anyone tried the new espresso blend at the market?")
        db.session.commit()
    make_product(make_shop("acme"), "Espresso cups (set of 4)", description="Thick-walled cups.")


@pytest.mark.parametrize("width", [1280, 390])
def test_search_page_at_desktop_and_phone_width(
    app, live_server, new_page, make_user, make_thread, make_shop, make_product, width
):
    _seed(app, make_user, make_thread, make_shop, make_product)
    page = new_page(width, 900 if width > 400 else 844)
    page.goto(live_server("/search?q=espress"))
    results = page.locator(".search-hit")
    assert results.count() == 5
    assert page.locator(".search-hit mark").count() >= 5
    kinds = {page.locator(".search-type").nth(n).inner_text() for n in range(5)}
    assert kinds == {"THREAD", "REPLY", "PRODUCT", "EVENT", "CHAT"}
    assert "**" not in page.locator(".search-results").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator(".search-types a", has_text="Events").click()
    page.wait_for_url("**type=event**")
    assert page.locator(".search-hit").count() == 1
    page.goto(live_server("/search?q=espress"))
    page.locator(".search-filters summary").click()
    page.check("input[name=has_offer]")
    page.locator(".search-form button").click()
    page.wait_for_url("**has_offer=1**")
    assert page.locator(".search-hit").count() == 1  # the product on sale
    page.goto(live_server("/search?q=espress"))
    assert not page.console_errors
