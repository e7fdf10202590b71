"""Browser: sign up from an [[event:ID]] card in a thread; another page sees the seats drop live."""

from datetime import timedelta

import pytest

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def _event(app, host, capacity):
    from forum.accounts.models import User
    from forum.events import service

    with app_context(app), app.test_request_context("/"):
        starts = now() + timedelta(days=2)
        event = service.create_event(
            db.session.get(User, host.id),
            title="Rooftop stargazing",
            description="Bring a blanket.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="Library roof",
            capacity=capacity,
        )
        db.session.commit()
        return event.id


def _watching(page):
    """Wait until every room of the page is watched (plaza.js acknowledges each watch)."""
    page.wait_for_selector("body[data-live=ready]", state="attached")


def test_sign_up_from_a_card_in_a_thread_updates_seats_live_elsewhere(
    app, live_server, new_page, make_user, make_thread
):
    host = make_user("stargazer")
    member = make_user("astronomer")
    watcher = make_user("onlooker")
    event_id = _event(app, host, capacity=2)
    thread_id = make_thread(
        host, title="Stargazing this weekend", body=f"Who's in?\n\n[[event:{event_id}]]"
    )

    other = new_page()
    log_in(other, live_server, watcher.username, watcher.password)
    other.goto(live_server(f"/events/{event_id}"))
    seats_elsewhere = other.locator(f'[data-event-id="{event_id}"] [data-seats-left]').first
    assert seats_elsewhere.inner_text() == "2"
    _watching(other)

    page = new_page()
    log_in(page, live_server, member.username, member.password)
    page.goto(live_server(f"/t/{thread_id}"))
    card = page.locator("[data-event-card]")
    assert card.locator("[data-seats-left]").inner_text() == "2"
    _watching(page)
    card.get_by_role("link", name="Sign up").click()

    card.locator(".event-state-in").wait_for()
    assert "You're in" in card.locator(".event-state-in").inner_text()
    other.wait_for_selector(f'[data-event-id="{event_id}"] [data-seats-left]:text-is("1")')
    assert seats_elsewhere.inner_text() == "1"
    assert card.locator("[data-seats-left]").inner_text() == "1"
    assert page.console_errors == [] and other.console_errors == []


def test_full_card_turns_into_waitlist_and_position_is_shown(
    app, live_server, new_page, make_user, make_thread
):
    from forum.accounts.models import User
    from forum.events import service
    from forum.events.models import Event

    host = make_user("fullhost")
    event_id = _event(app, host, capacity=1)
    with app_context(app), app.test_request_context("/"):
        service.sign_up(
            db.session.get(User, make_user("early").id), db.session.get(Event, event_id)
        )
        db.session.commit()
    thread_id = make_thread(host, title="Full already", body=f"[[event:{event_id}]]")
    member = make_user("latecomer")
    page = new_page(390, 844)
    log_in(page, live_server, member.username, member.password)
    page.goto(live_server(f"/t/{thread_id}"))
    card = page.locator("[data-event-card]")
    assert "Full" in card.locator("[data-seats]").inner_text()
    card.get_by_role("link", name="Join waitlist").click()
    card.locator(".event-state-wait").wait_for()
    assert card.locator(".event-state-wait").inner_text() == "Waitlist · #1"
    assert card.locator("[data-waitlist-count]").inner_text() == "1"
