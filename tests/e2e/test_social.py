"""Social things in a real browser, at desktop and phone width: a draft typed into a reply
survives a reload and a fresh tab (saved on the server, not by the browser's form memory);
a reaction is given in place; the user card opens on a name."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 390])
def test_a_draft_survives_a_reload_and_the_page_reacts_and_shows_cards(
    app, live_server, new_page, make_user, make_thread, width
):
    from forum.accounts import service as accounts
    from forum.accounts.models import User
    from forum.extensions import db

    author = make_user("author")
    reader = make_user("reader")
    with app.app_context(), app.test_request_context("/"):
        picture = io.BytesIO()
        Image.new("RGB", (300, 200), (30, 120, 200)).save(picture, "PNG")
        app.config["UPLOAD_FOLDER"] = str(live_server.log.parent / "uploads")
        accounts.set_avatar(db.session.get(User, author.id), picture.getvalue())
        db.session.commit()
    thread_id = make_thread(author, title="Best hand grinder?", body="Under 100 please.")
    page = new_page(width=width, height=844 if width == 390 else 900)
    log_in(page, live_server, reader.username, reader.password)
    page.goto(live_server(f"/t/{thread_id}"))

    with page.expect_response(lambda r: "/api/v1/drafts/threads/" in r.url and r.ok):
        page.fill("#reply textarea", "The Kingrinder K6 is worth a look")
    expect(page.locator(".draft-status")).to_have_text("Draft saved")
    page.reload()
    expect(page.locator("#reply textarea")).to_have_value("The Kingrinder K6 is worth a look")
    fresh = page.context.new_page()  # no form memory at all: only the server has it
    fresh.goto(live_server(f"/t/{thread_id}"))
    expect(fresh.locator("#reply textarea")).to_have_value("The Kingrinder K6 is worth a look")
    fresh.close()

    page.locator("article.post .reaction-picker summary").first.click()
    page.locator('article.post .reaction-menu button[value="thanks"]').first.click()
    expect(page.locator("article.post .reaction.is-on").first).to_have_text("🙏 1")
    page.screenshot(path=str(ARTIFACTS / f"social-thread-{width}.png"), full_page=False)

    author_link = page.locator("article.post a.author").first
    author_link.hover()
    card = page.locator(".user-card-pop .user-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Trust level 1")
    expect(card.locator("img.avatar-picture")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"social-card-{width}.png"), full_page=False)

    page.click("text=Post reply")
    page.wait_for_selector("article.post >> nth=1")
    page.goto(live_server(f"/t/{thread_id}"))
    expect(page.locator("#reply textarea")).to_have_value("")
    assert page.console_errors == []


@pytest.mark.parametrize("way", ["hover", "tap", "keyboard"])
def test_a_chat_author_shows_the_user_card(app, live_server, browser, make_user, way):
    """Every member name is one macro (``member_link``): a chat message's author shows
    the card on a mouse hover (desktop), on the first tap (a phone, 390 px) and on
    keyboard focus, where Escape closes it and gives focus back to the name."""
    from forum.accounts.models import User
    from forum.chat import service as chat
    from forum.extensions import db

    admin, alice, bob = make_user("chatadmin", role="admin"), make_user("alice"), make_user("bob")
    with app.app_context(), app.test_request_context("/"):
        room = chat.create_public_room(db.session.get(User, admin.id), "coffee", "Coffee", "")
        chat.send_message(db.session.get(User, alice.id), room, "Anyone tried the V60?")
        db.session.commit()
    phone = way == "tap"
    context = browser.new_context(
        viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
        has_touch=phone,
        is_mobile=phone,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in(page, live_server, bob.username, bob.password)
        page.goto(live_server("/chat/coffee"))
        author = page.locator("article.msg a.msg-author", has_text="alice").first
        card = page.locator(".user-card-pop .user-card")
        if way == "hover":
            author.hover()
        elif way == "tap":
            author.tap()
            expect(page).to_have_url(live_server("/chat/coffee"))  # the first tap stays
        else:
            author.focus()
        expect(card).to_be_visible()
        expect(card.locator(".user-card-name")).to_have_text("alice")
        expect(card).to_contain_text("Trust level")
        expect(card.get_by_role("button", name="Message")).to_be_visible()
        box = card.bounding_box()
        assert (
            box is not None
            and box["x"] >= 0
            and box["x"] + box["width"] <= (390 if phone else 1280)
        )
        page.screenshot(path=str(ARTIFACTS / f"social-chat-card-{way}.png"), full_page=False)
        if way == "keyboard":
            page.keyboard.press("Escape")
            expect(card).to_have_count(0)
            expect(author).to_be_focused()
        assert errors == []
    finally:
        context.close()
