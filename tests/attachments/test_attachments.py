"""Images in posts and chat: uploaded through the one pipeline, owned by the uploader,
served from this site; external images in Markdown become links."""

import io

import pytest
from PIL import Image

from forum import uploads
from forum.attachments.models import Attachment
from forum.extensions import db
from forum.markup import render
from tests.conftest import login


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


PNG = encoded(Image.new("RGB", (40, 30), (200, 30, 30)), "PNG")


def post_image(client, data, filename="p.png", headers=None):
    return client.post(
        "/api/v1/uploads",
        data={"image": (io.BytesIO(data), filename)},
        headers=headers or {},
        content_type="multipart/form-data",
    )


class Api:
    """A member's API calls with a bearer token (a cookie session would need its CSRF
    token; the browser test covers that path), and pages with their cookie session."""

    def __init__(self, client, headers):
        self.client, self.headers = client, headers

    def upload(self, data, filename="p.png"):
        return post_image(self.client, data, filename, self.headers)

    def delete(self, upload_id):
        return self.client.delete(f"/api/v1/uploads/{upload_id}", headers=self.headers)

    def get(self, url):
        response = self.client.get(url)
        response.get_data()
        response.close()  # a file response holds the file open until closed
        return response


@pytest.fixture
def api(member_client, member, token_for):
    return Api(member_client, token_for(member))


@pytest.fixture
def api_for(app, token_for):
    def make(user):
        client = app.test_client()
        login(client, user)
        return Api(client, token_for(user))

    return make


def rows(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Attachment))


def stored_files(tmp_path) -> list:
    folder = tmp_path / "uploads" / "attachments"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_member_uploads_an_image_and_gets_markdown_that_shows_it(app, api, tmp_path):
    response = api.upload(PNG)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["markdown"] == f"![image]({body['url']})"
    assert body["url"].startswith("/media/") and (body["width"], body["height"]) == (40, 30)
    served = api.get(body["url"])
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert Image.open(io.BytesIO(served.data)).size == (40, 30)
    with app.test_request_context("/"):
        html = render(body["markdown"]).html
    name = body["url"].removeprefix("/media/")
    # The post shows the stored thumbnail, linked to the full size (the lightbox's target).
    assert (
        f'<a href="{body["url"]}" class="lightbox-link" data-lightbox>'
        f'<img src="/media/thumbs/{name}"'
    ) in html
    assert len(stored_files(tmp_path)) == 1


def test_a_visitor_cannot_upload(app, client, tmp_path):
    response = post_image(client, PNG)
    assert response.status_code in (401, 403)
    assert rows(app) == 0 and stored_files(tmp_path) == []


@pytest.mark.parametrize(
    ("data", "filename", "why"),
    [
        (b"just some text, not a picture", "notes.png", "not an image"),
        (b"%PDF-1.4\n" + b"0" * 200, "cv.jpg", "a PDF named .jpg"),
        (
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            "x.png",
            "svg",
        ),
        (PNG[:60], "cut.png", "a truncated PNG"),
        (b"GIF89a" + b"<script>alert(1)</script>" * 20, "x.gif", "script behind a GIF header"),
        (encoded(Image.new("RGB", (8, 8)), "BMP"), "x.png", "a BMP named .png"),
        (b"", "empty.png", "empty"),
    ],
)
def test_anything_but_an_image_is_refused_and_nothing_is_stored(
    app, api, tmp_path, data, filename, why
):
    response = api.upload(data, filename)
    assert response.status_code == 422, why
    assert response.json["error"]["code"] == "invalid_image", why
    assert "image" in response.json["error"]["fields"]
    assert rows(app) == 0 and stored_files(tmp_path) == []


def test_a_file_too_big_is_refused(app, api, tmp_path):
    app.config["UPLOAD_MAX_BYTES"] = 1024
    noisy = Image.effect_noise((200, 200), 80).convert("RGB")
    data = encoded(noisy, "PNG")
    assert len(data) > 1024
    response = api.upload(data)
    assert response.status_code in (413, 422)
    if response.status_code == 422:
        assert response.json["error"]["code"] == "image_too_large"
    assert rows(app) == 0 and stored_files(tmp_path) == []


def test_too_many_pixels_is_refused_from_the_header(app, api, tmp_path):
    side = int(uploads.MAX_PIXELS**0.5) + 10
    data = encoded(Image.new("1", (side, side)), "PNG")
    response = api.upload(data)
    assert response.status_code == 422
    assert "too many pixels" in response.json["error"]["fields"]["image"][0]
    assert rows(app) == 0 and stored_files(tmp_path) == []


def test_a_disguised_file_is_re_encoded_and_metadata_dropped(app, api, tmp_path):
    """A real JPEG with a zip appended and EXIF: what is stored is our own encoding."""
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 90, 10)).save(out, "JPEG", exif=exif)
    data = out.getvalue() + b"PK\x03\x04" + b"hidden archive" * 50
    response = api.upload(data, "holiday.jpg")
    assert response.status_code == 201
    (stored,) = stored_files(tmp_path)
    raw = stored.read_bytes()
    assert b"PK\x03\x04" not in raw and b"secret description" not in raw
    assert stored.name != "holiday.jpg" and stored.suffix == ".jpg"


def test_a_big_image_is_fitted_into_1600_px(api):
    response = api.upload(encoded(Image.new("RGB", (3200, 800)), "PNG"))
    assert response.status_code == 201
    assert (response.json["width"], response.json["height"]) == (1600, 400)


def test_another_member_cannot_delete_your_image(app, make_user, api, api_for, tmp_path):
    created = api.upload(PNG).json
    other = api_for(make_user("mallory"))
    refused = other.delete(created["id"])
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "not_owner"
    html_refused = other.client.post(f"/media/{created['id']}/delete")
    assert html_refused.status_code == 403
    assert rows(app) == 1 and len(stored_files(tmp_path)) == 1
    assert api.get(created["url"]).status_code == 200
    assert other.delete(999999).status_code == 404


def test_the_uploader_and_a_moderator_can_delete(app, make_user, api, api_for, tmp_path):
    first = api.upload(PNG).json
    second = api.upload(PNG).json
    assert api.delete(first["id"]).status_code == 204
    assert api.get(first["url"]).status_code == 404
    moderator = api_for(make_user("mod", role="moderator"))
    assert moderator.delete(second["id"]).status_code == 204
    assert rows(app) == 0 and stored_files(tmp_path) == [] and thumbnails(tmp_path) == []


def thumbnails(tmp_path) -> list:
    folder = tmp_path / "uploads" / "attachment-thumbs"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_thumbnail_is_made_once_at_upload_and_served_from_the_site(api, tmp_path):
    body = api.upload(encoded(Image.new("RGB", (2000, 1000), (10, 120, 200)), "JPEG"), "b.jpg").json
    name = body["url"].removeprefix("/media/")
    assert [path.name for path in thumbnails(tmp_path)] == [name]
    served = api.get(f"/media/thumbs/{name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).size == (480, 240)
    assert Image.open(io.BytesIO(api.get(body["url"]).data)).size == (1600, 800)
    # A small picture is not enlarged; an upload older than thumbnails shows itself.
    small = api.upload(PNG).json["url"].removeprefix("/media/")
    assert Image.open(io.BytesIO(api.get(f"/media/thumbs/{small}").data)).size == (40, 30)
    (tmp_path / "uploads" / "attachment-thumbs" / small).unlink()
    assert Image.open(io.BytesIO(api.get(f"/media/thumbs/{small}").data)).size == (40, 30)
    assert api.get("/media/thumbs/" + "c" * 32 + ".png").status_code == 404
    assert api.get("/media/thumbs/..%2F" + name).status_code == 404


def test_only_names_of_uploads_are_served(api, tmp_path):
    folder = tmp_path / "uploads" / "attachments"
    folder.mkdir(parents=True)
    (folder / ("a" * 32 + ".png")).write_bytes(PNG)  # a file no upload row names
    assert api.get("/media/" + "a" * 32 + ".png").status_code == 404
    assert api.get("/media/..%2F..%2Fetc%2Fpasswd").status_code == 404
    assert api.get("/media/x.svg").status_code == 404


def test_the_plain_form_uploads_without_script(app, member_client, tmp_path):
    response = member_client.post(
        "/media/upload",
        data={"image": (io.BytesIO(PNG), "p.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = member_client.get("/media/upload").get_data(as_text=True)
    assert "![image](/media/" in page
    refused = member_client.post(
        "/media/upload",
        data={"image": (io.BytesIO(b"nope"), "p.png")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert rows(app) == 1


@pytest.mark.parametrize(
    "config_overrides", [{"RATELIMIT_ENABLED": True, "ATTACHMENT_LIMIT": "2/minute"}]
)
def test_uploads_are_rate_limited_per_member(app, api, tmp_path):
    assert api.upload(PNG).status_code == 201
    assert api.upload(PNG).status_code == 201
    third = api.upload(PNG)
    assert third.status_code == 429
    assert rows(app) == 2 and len(stored_files(tmp_path)) == 2


def test_an_image_in_a_reply_shows_in_the_thread(app, member, member_client, api, make_thread):
    url = api.upload(PNG).json["url"]
    thread_id = make_thread(member)
    reply = member_client.post(
        f"/t/{thread_id}/reply", data={"body": f"Look at this:\n\n![image]({url})"}
    )
    assert reply.status_code in (302, 303), reply.get_data(as_text=True)[:300]
    page = api.get(f"/t/{thread_id}").get_data(as_text=True)
    assert f'<a href="{url}" class="lightbox-link" data-lightbox>' in page
    assert f'<img src="{url.replace("/media/", "/media/thumbs/")}"' in page


# --- external images become links -------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("![a cat](https://example.com/cat.png)", '<a href="https://example.com/cat.png"'),
        ("![](//example.com/cat.png)", '<a href="//example.com/cat.png"'),
        ('<img src="https://example.com/x.png" alt="raw">', '<a href="https://example.com/x.png"'),
    ],
)
def test_an_external_image_becomes_a_link(app, markdown, expected):
    with app.test_request_context("/"):
        html = render(markdown).html
    assert "<img" not in html
    assert expected in html and 'rel="nofollow ugc noopener"' in html


def test_an_external_image_inside_a_link_becomes_its_alt_text(app):
    with app.test_request_context("/"):
        html = render("[![logo](https://example.com/l.png)](https://example.com/)").html
    assert "<img" not in html and html.count("<a ") == 1 and ">logo</a>" in html


def test_site_images_stay_images(app):
    with app.test_request_context("/"):
        html = render("![x](/media/" + "b" * 32 + ".png) ![y](/static/img/logo.png)").html
    assert html.count("<img") == 2
