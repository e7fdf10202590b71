"""Unread in a real browser: a second member sees a thread marked new, reading it is
recorded by the page as posts scroll into view, and later replies show as an unread
count that opens the thread at the first unread post (desktop and phone width)."""

import re

import pytest

from forum.accounts.models import User
from forum.board import service
from forum.board.models import Post, Thread
from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.e2e


def add_replies(app, thread_id, author, count, start=0):
    with app_context(app), app.test_request_context("/"):
        thread = db.session.get(Thread, thread_id)
        user = db.session.get(User, author.id)
        for n in range(start, start + count):
            service.reply(user, thread, f"Reply number {n}")
        db.session.commit()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_second_member_sees_new_then_lands_on_the_first_unread_post(
    app, live_server, new_page, make_user, make_thread, width
):
    alice, bob = make_user("alice"), make_user("bob")
    thread_id = make_thread(alice, title="Reading in the browser", body="Opening post")
    add_replies(app, thread_id, alice, 19)  # 20 posts: one full page

    page = new_page(width=width, height=800)
    log_in(page, live_server, bob.username, bob.password)
    page.goto(live_server("/"))
    row = page.locator(f".thread-row:has(a[href='/t/{thread_id}'])")
    assert row.locator("[data-new]").inner_text().lower() == "new"

    row.locator(".thread-title").click()
    page.wait_for_url(re.compile(rf"/t/{thread_id}"))
    page.wait_for_selector("body[data-read-position]", state="attached")
    page.locator("[data-post-position='20']").scroll_into_view_if_needed()
    page.wait_for_selector("body[data-read-position='20']", state="attached")

    add_replies(app, thread_id, alice, 3, start=19)  # positions 21-23, on page 2
    page.goto(live_server("/?view=unread"))
    row = page.locator(f".thread-row:has(a[href='/t/{thread_id}/unread'])")
    assert row.locator("[data-unread]").inner_text() == "3"
    assert row.locator("[data-new]").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"reading-unread-list-{width}.png"), full_page=True)

    row.locator(".thread-title").click()
    with app_context(app):
        first_unread = db.session.scalar(
            db.select(Post.id).where(Post.thread_id == thread_id, Post.position == 21)
        )
    page.wait_for_url(re.compile(rf"/t/{thread_id}\?page=2#post-{first_unread}$"))
    assert page.locator(f"#post-{first_unread}").is_visible()
    assert page.console_errors == []
