"""The main forum flow in a real browser: register, log in, post Markdown, reply."""

import pytest

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def test_register_post_markdown_thread_and_reply(live_server, new_page, make_category):
    make_category("general", "General chat")
    page = new_page()
    page.goto(live_server("/register"))
    page.fill("#username", "browser_bea")
    page.fill("#email", "bea@example.com")
    page.fill("#password", "a long password")
    page.click("button[type=submit]")
    page.wait_for_url(live_server("/"))
    assert page.locator(".menu-name").inner_text() == "browser_bea"

    # Log out and back in through the form.
    page.click(".menu summary")
    page.click("text=Log out")
    page.wait_for_selector("text=Log in")
    log_in(page, live_server, "browser_bea", "a long password")

    page.goto(live_server("/c/general"))
    page.click("text=New thread")
    page.fill("#title", "Markdown in the browser")
    page.fill(
        "#body",
        "# Heading\n\nSome **bold** text and a [link](https://example.com).\n\n<script>window.pwned=1</script>",
    )
    page.click("[data-tab=preview]")
    page.wait_for_selector("[data-preview] strong")
    assert page.locator("[data-preview] strong").inner_text() == "bold"
    page.click("[data-tab=write]")
    page.click("text=Post thread")
    page.wait_for_selector("article.post")
    first = page.locator("article.post").first
    assert first.locator(".prose h1").inner_text() == "Heading"
    assert first.locator(".prose strong").inner_text() == "bold"
    assert first.locator(".prose a").get_attribute("rel") == "nofollow ugc noopener"
    assert page.evaluate("window.pwned") is None

    page.fill("#reply textarea", "A reply with *emphasis*")
    page.click("text=Post reply")
    page.wait_for_selector("article.post >> nth=1")
    assert page.locator("article.post").nth(1).locator(".prose em").inner_text() == "emphasis"
    assert page.console_errors == []


def test_a_reply_appears_live_in_another_open_page(live_server, new_page, make_user, make_thread):
    author = make_user("author")
    reader_user = make_user("reader")
    thread_id = make_thread(author, title="Live thread", body="Opening post")

    reader = new_page()
    log_in(reader, live_server, reader_user.username, reader_user.password)
    reader.goto(live_server(f"/t/{thread_id}"))
    reader.wait_for_selector("body[data-live=ready]", state="attached")

    writer = new_page(width=390, height=800)
    log_in(writer, live_server, author.username, author.password)
    writer.goto(live_server(f"/t/{thread_id}"))
    writer.fill("#reply textarea", "Hello from the other page")
    writer.click("text=Post reply")

    reader.wait_for_selector(
        "article.post.is-new >> text=Hello from the other page", timeout=10_000
    )
    assert reader.locator("article.post").count() == 2
