"""Two members chatting live in two Chromium pages, and the other live updates."""

import time

import pytest
from playwright.sync_api import expect

from forum.extensions import db
from tests.conftest import app_context
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(app, make_user):
    return {name: make_user(name) for name in ("alice", "bob")}


@pytest.fixture
def rooms(app, make_user, people):
    """Two public rooms; bob has joined both, so "deals" counts unread for him."""
    from forum.accounts.models import User
    from forum.chat import service

    admin = make_user("chatadmin", role="admin")
    with app_context(app), app.test_request_context("/"):
        creator = db.session.get(User, admin.id)
        general = service.create_public_room(creator, "general", "General", "Say hi")
        deals = service.create_public_room(creator, "deals", "Deals", "Bargains")
        bob = db.session.get(User, people["bob"].id)
        service.join(bob, general)
        service.join(bob, deals)
        db.session.commit()
    return ("general", "deals")


def wait_js(page, expression: str, timeout: float = 10) -> None:
    """Poll ``expression`` from here: wait_for_function evaluates strings inside the
    page, which our Content-Security-Policy (no 'unsafe-eval') forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def open_chat(new_page, live_server, user, path="/chat/general", width=1280):
    page = new_page(width=width)
    log_in(page, live_server, user.username, user.password)
    page.goto(live_server(path))
    expect(page.locator("[data-conn-status]")).to_be_hidden()
    return page


def test_a_message_typed_in_one_browser_appears_in_the_other(new_page, live_server, people, rooms):
    alice_page = open_chat(new_page, live_server, people["alice"])
    bob_page = open_chat(new_page, live_server, people["bob"])

    # Presence: each sees the other online.
    expect(alice_page.locator("[data-online] li", has_text="bob")).to_be_visible()
    expect(bob_page.locator("[data-online] li", has_text="alice")).to_be_visible()
    expect(bob_page.locator("[data-online-count]")).to_have_text("2 online")

    box = alice_page.locator("#chat-body")
    box.click()
    box.type("Hello from Alice, **live**")
    expect(bob_page.locator("[data-typing]")).to_have_text("alice is typing…")
    box.press("Enter")

    message = bob_page.locator(".msg", has_text="Hello from Alice")
    expect(message).to_be_visible()
    expect(message.locator("strong")).to_have_text("live")
    expect(bob_page.locator("[data-typing]")).to_have_text("")
    expect(alice_page.locator("#chat-body")).to_have_value("")
    expect(alice_page.locator(".msg", has_text="Hello from Alice")).to_have_count(1)

    # And back, with a mention that lights bob's bell without a reload.
    bell = bob_page.locator("[data-bell-count]")
    before = int(bell.text_content() or 0)
    # Bob is reading the room, so his page reads the mention ~0.8 s after it lands and
    # the bell goes dark again: record every value the bell shows rather than race it.
    bob_page.evaluate(
        """() => {
          const bell = document.querySelector("[data-bell-count]");
          window.bellShown = [];
          new MutationObserver(() => window.bellShown.push(bell.textContent.trim()))
            .observe(bell, { childList: true, characterData: true, subtree: true });
        }"""
    )
    bob_box = bob_page.locator("#chat-body")
    bob_box.fill("Hi alice!")
    bob_box.press("Enter")
    expect(alice_page.locator(".msg", has_text="Hi alice!")).to_be_visible()
    alice_page.locator("#chat-body").fill("@bob see you at 7")
    alice_page.locator("#chat-body").press("Enter")
    expect(bob_page.locator(".msg.is-mention", has_text="see you at 7")).to_be_visible()
    wait_js(bob_page, f"window.bellShown.includes('{before + 1}')")
    # ...and having read the room to its end, the mention is seen: the bell is back.
    expect(bell).to_have_text(str(before))

    # A message in another room bumps that room's unread badge in bob's sidebar.
    alice_page.goto(live_server("/chat/deals"))
    expect(alice_page.locator("[data-conn-status]")).to_be_hidden()
    alice_page.locator("#chat-body").fill("Earbuds are 40% off")
    alice_page.locator("#chat-body").press("Enter")
    expect(bob_page.locator('[data-room-link="deals"] [data-unread]')).to_have_text("1")

    # The author deletes a message: it disappears for bob too.
    alice_page.goto(live_server("/chat/general"))
    expect(alice_page.locator("[data-conn-status]")).to_be_hidden()
    alice_page.on("dialog", lambda dialog: dialog.accept())
    mine = alice_page.locator(".msg", has_text="see you at 7")
    mine.hover()
    mine.locator("button", has_text="Delete").click()
    expect(bob_page.locator(".msg", has_text="see you at 7")).to_have_count(0)
    expect(bob_page.locator(".msg", has_text="Hello from Alice")).to_be_visible()

    # Too long: a clear error, nothing sent.
    alice_page.locator("#chat-body").fill("x" * 2001)
    alice_page.locator("#chat-body").press("Enter")
    expect(alice_page.locator("[data-send-error]")).to_contain_text("at most 2,000 characters")

    assert alice_page.console_errors == [] and bob_page.console_errors == []


def test_the_chat_page_on_a_phone(new_page, live_server, people, rooms):
    phone = open_chat(new_page, live_server, people["alice"], width=390)
    phone.locator("#chat-body").fill("Typed on a phone")
    phone.locator("button.chat-send").click()
    expect(phone.locator(".msg", has_text="Typed on a phone")).to_be_visible()
    expect(phone.locator(".chat-info")).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert phone.console_errors == []


def test_a_new_reply_appears_in_an_open_thread(app, new_page, live_server, people, make_thread):
    thread_id = make_thread(people["alice"], title="Live thread", body="First!")
    reader = new_page()
    log_in(reader, live_server, "bob", people["bob"].password)
    reader.goto(live_server(f"/t/{thread_id}"))
    writer = new_page()
    log_in(writer, live_server, "alice", people["alice"].password)
    writer.goto(live_server(f"/t/{thread_id}"))
    wait_js(reader, "window.Plaza && window.Plaza.live && window.Plaza.live.connected")
    writer.locator("#reply textarea").fill("A reply that arrives live")
    writer.locator("#reply button[type=submit]").click()
    expect(reader.locator(".post", has_text="A reply that arrives live")).to_be_visible()
    assert reader.console_errors == []


def test_a_page_that_lost_its_socket_catches_up_on_reconnect(
    new_page, live_server, people, rooms, make_thread
):
    alice_page = open_chat(new_page, live_server, people["alice"])
    bob_page = open_chat(new_page, live_server, people["bob"])
    alice_page.locator("#chat-body").fill("before the outage")
    alice_page.locator("#chat-body").press("Enter")
    expect(bob_page.locator(".msg", has_text="before the outage")).to_be_visible()

    # Bob's connection drops (as when his server process dies); alice goes on talking.
    bob_page.evaluate("window.Plaza.chat.disconnect(); window.Plaza.live.disconnect()")
    for n in range(3):
        alice_page.locator("#chat-body").fill(f"while you were away {n} @bob")
        alice_page.locator("#chat-body").press("Enter")
        expect(alice_page.locator(".msg", has_text=f"while you were away {n}")).to_be_visible()
    expect(bob_page.locator(".msg", has_text="while you were away")).to_have_count(0)
    bell = bob_page.locator("[data-bell-count]")
    expect(bell).to_have_class("badge is-empty")

    bob_page.evaluate("window.Plaza.chat.connect(); window.Plaza.live.connect()")
    for n in range(3):
        expect(bob_page.locator(".msg", has_text=f"while you were away {n}")).to_have_count(1)
    bodies = bob_page.locator(".msg .msg-body").all_inner_texts()
    assert bodies[-4:] == ["before the outage"] + [
        f"while you were away {n} @bob" for n in range(3)
    ]
    # the three mentions made while offline, grouped per room into one unread row
    expect(bell).to_have_text("1")
    assert bob_page.console_errors == []


def test_an_open_thread_notices_replies_missed_while_offline(
    new_page, live_server, people, make_thread
):
    thread_id = make_thread(people["alice"], title="Offline thread", body="First!")
    reader = new_page()
    log_in(reader, live_server, "bob", people["bob"].password)
    reader.goto(live_server(f"/t/{thread_id}"))
    wait_js(reader, "window.Plaza.live.connected && window.Plaza.threadReplyCount() !== null")
    reader.evaluate("window.Plaza.live.disconnect()")
    writer = new_page()
    log_in(writer, live_server, "alice", people["alice"].password)
    writer.goto(live_server(f"/t/{thread_id}"))
    writer.locator("#reply textarea").fill("Posted while bob was offline")
    writer.locator("#reply button[type=submit]").click()
    writer.wait_for_url(lambda url: "#post-" in url)
    expect(reader.locator("[data-live-note]")).to_be_hidden()
    reader.evaluate("window.Plaza.live.connect()")
    expect(reader.locator("[data-live-note]")).to_be_visible()
    reader.locator("[data-live-load]").click()
    expect(reader.locator(".post", has_text="Posted while bob was offline")).to_be_visible()
