"""Moderation in a real browser: a member flags a post through the dialog, a moderator
opens the queue, agrees with a reason, and the author reads the reason in a notification."""

import pytest

from tests.e2e.conftest import ARTIFACTS, log_in

from ..moderation.helpers import first_post_id

pytestmark = pytest.mark.e2e


def test_flag_review_agree_and_the_author_is_told(
    app, live_server, new_page, make_user, make_thread
):
    author = make_user("sam_seller")
    reader = make_user("rita_reader")
    mod = make_user("mod_mia", role="moderator")
    thread_id = make_thread(
        author, title="Unbeatable watch deals", body="Replica watches at cheap-watches.example"
    )
    post_id = first_post_id(app, thread_id)

    member = new_page()
    log_in(member, live_server, reader.username, reader.password)
    member.goto(live_server(f"/t/{thread_id}"))
    member.click(f'[data-flag-id="{post_id}"]')
    dialog = member.locator("#flag-dialog")
    dialog.wait_for(state="visible")
    assert dialog.locator("a[href='/guidelines']").count() == 1
    dialog.locator("input[value=spam]").check()
    dialog.locator("textarea[name=note]").fill("Counterfeit goods advert")
    dialog.locator("button:has-text('Send flag')").click()
    member.wait_for_selector(".flash-success")
    assert "moderators will look" in member.locator(".flash-success").inner_text()

    moderator = new_page()
    log_in(moderator, live_server, mod.username, mod.password)
    moderator.goto(live_server("/"))
    moderator.click(".menu summary")
    moderator.click("[data-queue-link]")
    item = moderator.locator("[data-queue-item]").first
    item.wait_for()
    assert "cheap-watches.example" in item.inner_text()
    assert "rita_reader" in item.inner_text() and "Counterfeit goods advert" in item.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    moderator.screenshot(path=str(ARTIFACTS / "moderation-queue-desktop.png"), full_page=True)
    narrow = new_page(width=390, height=844)
    log_in(narrow, live_server, mod.username, mod.password)
    narrow.goto(live_server("/mod/queue"))
    narrow.screenshot(path=str(ARTIFACTS / "moderation-queue-390.png"), full_page=True)
    item.locator(".decide-form input[name=reason]").fill(
        "Selling counterfeits breaks our guidelines"
    )
    item.locator("button[value=agree]").click()
    moderator.wait_for_selector(".flash-success")
    assert moderator.locator("[data-queue-item]").count() == 0

    writer = new_page()
    log_in(writer, live_server, author.username, author.password)
    writer.goto(live_server("/notifications/"))
    assert "Selling counterfeits breaks our guidelines" in writer.locator("main").inner_text()
    assert member.console_errors == [] and moderator.console_errors == []
