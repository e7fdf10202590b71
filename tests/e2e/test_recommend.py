"""Browser: a member opens the front page and sees "For you" with the reason of each
recommendation, on a desktop and on a 390 px phone (one server for both)."""

import pytest

from forum.extensions import db
from forum.recommend import service
from tests.conftest import app_context
from tests.e2e.conftest import log_in
from tests.recommend import world as world_module

world = world_module.world  # the fixture

pytestmark = pytest.mark.e2e


def test_member_sees_for_you_with_reasons(app, world, live_server, new_page):
    with app_context(app), app.test_request_context("/"):
        service.recompute()
        db.session.commit()
    alice = world["refs"]["alice"]
    for width, height in ((1280, 900), (390, 844)):
        page = new_page(width, height)
        log_in(page, live_server, alice.username, alice.password)
        page.goto(live_server("/"))
        box = page.locator("[data-for-you]")
        box.wait_for()
        offers = box.locator("[data-kind=offer] li")
        assert offers.count() == 2
        offered = box.locator("[data-kind=offer]").inner_text()
        assert offered.count("Because you joined the Grinder group-buy") == 2
        threads = box.locator("[data-kind=thread]").inner_text()
        assert "Best beans" in threads and "Because you replied in" in threads
        rooms = box.locator("[data-kind=room]").inner_text()
        assert "Espresso chat" in rooms and "Secret" not in rooms
        assert page.console_errors == []
        if width == 390:
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0
        page.screenshot(path=f"/tmp/recs-for-you-{width}.png", full_page=False)
