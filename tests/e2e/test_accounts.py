"""The API tokens page in a real browser: its scopes are a group of checkbox tiles."""

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_token_scopes_are_a_checkbox_group_and_create_a_token(
    live_server, new_page, make_user, width
):
    user = make_user("token_tess")
    page = new_page(width=width)
    log_in(page, live_server, user.username, user.password)
    page.goto(live_server("/settings/tokens"))
    group = page.locator("fieldset.choice-group")
    assert group.locator("legend").inner_text() == "Scopes"
    tiles = group.locator("label.choice")
    assert tiles.count() == 2  # read and write; merchant only for merchants
    # Tiles, not a bulleted list: no list markers, each checkbox inside its own bordered label.
    assert page.locator("fieldset.choice-group ul, fieldset.choice-group li").count() == 0
    first = tiles.first.bounding_box()
    assert first["height"] >= 30 and first["width"] > 100
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # read and write start checked; the whole tile toggles its box.
    assert group.locator("input:checked").count() == 2
    tiles.nth(1).click()
    assert group.locator("input:checked").count() == 1
    page.fill("#tok-name", "ci bot")
    page.click("text=Create token")
    page.wait_for_selector("code.token")
    listed = page.locator(".plain-list li").first.inner_text()
    assert "ci bot" in listed and "read ·" in listed and "write" not in listed
    assert page.console_errors == []
