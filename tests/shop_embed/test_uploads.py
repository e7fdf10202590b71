"""The one image upload pipeline (forum.uploads): pixel ceiling on the header, JPEG
decoded at a reduced scale, a bounded number of decodes at once, for product images
and event covers alike."""

import io

import pytest
from PIL import Image

from forum import uploads
from forum.errors import ServiceError
from forum.events import covers

from .conftest import counts


def encoded(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """The finding's file: a ~128 KB PNG of 6,300 x 6,300 pixels (39.7 million)."""
    return encoded(Image.new("1", (6300, 6300)), "PNG")


def post_image(client, shop, product_id, data, filename="p.png"):
    return client.post(
        f"/api/v1/products/{product_id}/image",
        headers=shop.headers,
        data={"image": (io.BytesIO(data), filename)},
    )


def test_the_6300_square_png_bomb_is_refused_as_a_product_image(
    app, client, shop, make_product, tmp_path, bomb
):
    product_id = make_product(shop)
    before = counts(app)
    response = post_image(client, shop, product_id, bomb)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "invalid_image"
    assert "too many pixels" in response.json["error"]["fields"]["image"][0]
    assert counts(app) == before
    assert not (tmp_path / "uploads" / "products").exists()


def test_the_6300_square_png_bomb_is_refused_as_an_event_cover(app, tmp_path, bomb):
    with app.test_request_context("/"), pytest.raises(ServiceError) as refused:
        covers.save_cover(bomb)
    assert refused.value.status == 422
    assert "too many pixels" in refused.value.fields["cover_image"][0]
    assert not list((tmp_path / "uploads" / "events").iterdir())


def test_an_image_at_the_pixel_ceiling_is_accepted(app):
    side = int(uploads.MAX_PIXELS**0.5)
    data = encoded(Image.new("RGB", (side, side), (10, 120, 200)), "PNG")
    with app.test_request_context("/"):
        stored, ext = uploads.reencode(data, box=(1600, 1600))
    assert ext == "png"
    assert Image.open(io.BytesIO(stored)).size == (1600, 1600)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_never_below_the_stored_size(app):
    data = encoded(Image.new("RGB", (4000, 3000), (200, 80, 40)), "JPEG")
    with app.test_request_context("/"):
        product = uploads.decode(data, box=(1600, 1600))
        cover = uploads.decode(data, box=covers.COVER_SIZE)
    assert product.size == (2000, 1500)  # 1/2 scale: the smallest still >= 1600 on a side
    assert cover.size == (2000, 1500)
    with app.test_request_context("/"):
        stored, ext = uploads.reencode(data, box=covers.COVER_SIZE, as_jpeg=True)
    assert ext == "jpg" and Image.open(io.BytesIO(stored)).size == (1200, 900)


def test_an_upload_finding_every_decode_slot_busy_is_refused_and_stores_nothing(
    app, client, shop, make_product, tmp_path
):
    app.config["UPLOAD_DECODE_WAIT_SECONDS"] = 0
    product_id = make_product(shop)
    picture = encoded(Image.new("RGB", (40, 30), (1, 2, 3)), "PNG")
    for _ in range(uploads.DECODE_SLOTS):
        assert uploads._slots.acquire(timeout=5)
    try:
        before = counts(app)
        busy = post_image(client, shop, product_id, picture)
        assert busy.status_code == 429, busy.json
        assert busy.json["error"]["code"] == "uploads_busy"
        assert counts(app) == before
        assert not (tmp_path / "uploads" / "products").exists()
    finally:
        for _ in range(uploads.DECODE_SLOTS):
            uploads._slots.release()
    assert post_image(client, shop, product_id, picture).status_code == 200
