"""Images while composing, in a real browser at desktop and phone width: paste an image
into a reply (and pick one with the button), post, and see it in the thread; a click
opens it in the lightbox."""

import base64
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def png_base64(color) -> str:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), color).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode()


PASTE = """async (b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
  const area = document.querySelector("#reply textarea");
  area.focus();
  area.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_paste_an_image_into_a_reply_and_see_it_in_the_thread(
    live_server, new_page, make_user, make_thread, tmp_path, width
):
    author = make_user("author")
    replier = make_user("replier")
    thread_id = make_thread(author, title="Show your desk", body="Pictures welcome.")
    page = new_page(width=width, height=844 if width == 390 else 900)
    log_in(page, live_server, replier.username, replier.password)
    page.goto(live_server(f"/t/{thread_id}"))

    page.fill("#reply textarea", "My desk:")
    page.evaluate(PASTE, png_base64((200, 40, 40)))
    area = page.locator("#reply textarea")
    # Polled from Python: the CSP (no 'unsafe-eval') refuses a string predicate.
    expect(area).to_have_value(re.compile(r"My desk:\n!\[image\]\(/media/[0-9a-f]{32}\.png\)"))
    # And one picked with the button's file input.
    picked = tmp_path / "picked.png"
    picked.write_bytes(base64.b64decode(png_base64((40, 40, 200))))
    page.set_input_files("#reply [data-image-picker]", str(picked))
    expect(area).to_have_value(re.compile(r"(!\[image\]\(/media/[^)]*\)\s*){2}$"))
    page.click("text=Post reply")
    page.wait_for_selector("article.post >> nth=1")
    images = page.locator('article.post >> nth=1 >> .prose img[src^="/media/"]')
    assert images.count() == 2
    # The page has rendered the post, not necessarily fetched its image yet: wait for it.
    images.first.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=images.first.element_handle()
    )
    assert images.first.evaluate("img => img.naturalWidth") == 120
    # The post shows the stored thumbnail; a click opens the full size in the lightbox.
    thumb = images.first.get_attribute("src")
    assert thumb.startswith("/media/thumbs/")
    images.first.click()
    page.wait_for_selector("dialog.lightbox[open] img")
    assert page.locator("dialog.lightbox img").get_attribute("src") == thumb.replace(
        "/media/thumbs/", "/media/"
    )
    assert page.console_errors == []
    assert len(list((tmp_path / "uploads" / "attachments").iterdir())) == 2
