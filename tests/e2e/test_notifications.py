"""The grouped notification in a real browser: replies from three members ring the
bell live once, and the bell's page names them in one row ("dave and 2 others replied
in …"), at desktop and phone width, on one live server."""

import pytest
import requests

from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.e2e


def test_replies_ring_the_bell_once_and_show_as_one_grouped_row(
    app, live_server, new_page, make_user, make_thread, token_for
):
    alice = make_user("alice")
    repliers = [make_user(name) for name in ("bob", "carol", "dave")]
    tokens = {user.username: token_for(user) for user in repliers}
    thread_id = make_thread(alice, title="Is a router worth it?", body="Mine drops out daily.")

    def reply(user, body):
        answer = requests.post(
            live_server(f"/api/v1/threads/{thread_id}/posts"),
            json={"body": body},
            headers=tokens[user.username],
            timeout=10,
        )
        assert answer.status_code == 201, answer.text

    ARTIFACTS.mkdir(exist_ok=True)
    for width, round_ in ((1280, "first"), (390, "second")):
        page = new_page(width=width, height=800)
        log_in(page, live_server, alice.username, alice.password)
        page.goto(live_server("/"))
        page.wait_for_selector("body[data-live='ready']", state="attached")
        bell = page.locator("[data-bell-count]")
        assert bell.inner_text() == "0"

        reply(repliers[0], f"A **mesh** one helped me ({round_} round)")
        page.wait_for_function(
            "() => document.querySelector('[data-bell-count]').textContent === '1'"
        )
        for user in (repliers[1], repliers[2], repliers[0]):
            reply(user, f"Same here, [[event:1]] aside ({round_} round)")
        # every push of the merged row says one unread: the bell stays at one
        assert bell.inner_text() == "1" and bell.is_visible()
        page.screenshot(path=str(ARTIFACTS / f"notifications-bell-{width}.png"))

        page.locator("[data-bell]").click()
        page.wait_for_url("**/notifications/")
        row = page.locator("li.is-unread[data-notification='reply']")
        assert row.count() == 1
        assert "bob and 2 others replied in “Is a router worth it?”" in row.inner_text()
        assert row.locator("[data-count]").inner_text() == "· 4 posts"
        excerpt = row.locator(".excerpt").inner_text()
        assert "**" not in excerpt and "[[" not in excerpt and "aside" in excerpt
        # the page's beacon (a POST: the GET wrote nothing) says they were seen
        page.wait_for_function(
            "() => document.querySelector('[data-bell-count]').textContent === '0'"
        )
        page.screenshot(path=str(ARTIFACTS / f"notifications-page-{width}.png"), full_page=True)
        page.get_by_role("link", name="Settings", exact=True).click()
        page.wait_for_url("**/settings/notifications")
        assert page.get_by_label("Replies to your threads and posts in the bell").is_checked()
        # the email choice keeps room for its words at either width ("Right away"...)
        email = page.get_by_label("Replies to your threads and posts by email")
        box = email.bounding_box()
        assert box is not None and box["width"] >= 140 and box["x"] + box["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(ARTIFACTS / f"notifications-settings-{width}.png"), full_page=True)
        assert page.console_errors == []

    # An email's link to an unread notification: its page POSTs by itself and lands on
    # the post, which is then read.
    reply(repliers[1], "One more thought")
    page.wait_for_function("() => document.querySelector('[data-bell-count]').textContent === '1'")
    listing = page.evaluate(
        "() => fetch('/notifications/', {headers: {Accept: 'application/json'}}).then(r => r.json())"
    )
    newest = next(item for item in listing["items"] if not item["read"])
    page.goto(live_server(newest["url"]))
    page.wait_for_url("**/t/**")
    assert page.locator("[data-bell-count]").inner_text() == "0"
    assert page.console_errors == []
