"""Products through the API: who may create and change them, bad input, images."""

import io

import pytest
from PIL import Image

from .conftest import counts

GOOD = {
    "name": "Espresso grinder",
    "description": "Burrs *and* all.",
    "price_cents": 8900,
    "currency": "USD",
    "stock": 7,
}


def png_bytes(size=(40, 30), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, fmt)
    return out.getvalue()


def test_a_merchant_creates_a_product_and_anyone_reads_it_with_stock(client, shop):
    response = client.post("/api/v1/products", json=GOOD, headers=shop.headers)
    assert response.status_code == 201, response.json
    product = response.json
    assert (
        product["name"] == "Espresso grinder"
        and product["price_cents"] == 8900
        and product["stock"] == 7
    )
    assert product["merchant"]["slug"] == "acme"
    assert "<em>and</em>" in product["description_html"]

    anonymous = client.get(f"/api/v1/products/{product['id']}")
    assert anonymous.status_code == 200
    assert anonymous.json["stock"] == 7 and anonymous.json["currency"] == "USD"


def test_a_merchant_without_a_profile_gets_one_on_first_product(client, make_user, token_for):
    seller = make_user("newseller", role="merchant")
    response = client.post(
        "/api/v1/products", json={**GOOD, "currency": "EUR"}, headers=token_for(seller)
    )
    assert response.status_code == 201
    assert response.json["merchant"]["currency"] == "EUR"


@pytest.mark.parametrize("role, status", [("member", 403), ("moderator", 403), ("admin", 403)])
def test_only_merchants_create_products(app, client, make_user, token_for, role, status):
    user = make_user(f"some{role}", role=role)
    before = counts(app)
    response = client.post("/api/v1/products", json=GOOD, headers=token_for(user))
    assert response.status_code == status
    assert response.json["error"]["code"] == "forbidden"
    assert counts(app) == before


def test_anonymous_cannot_create_products(app, client):
    response = client.post("/api/v1/products", json=GOOD)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"price_cents": -1}, "price_cents"),
        ({"price_cents": 10**12}, "price_cents"),
        ({"price_cents": "12.50"}, "price_cents"),
        ({"price_cents": 12.5}, "price_cents"),
        ({"stock": -3}, "stock"),
        ({"stock": True}, "stock"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"currency": "XXX"}, "currency"),
        ({"currency": "EUR"}, "currency"),  # the shop sells in USD
        ({"description": "d" * 20_001}, "description"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_product_input_is_refused_with_fields_and_nothing_written(
    app, client, shop, change, field
):
    before = counts(app)
    response = client.post("/api/v1/products", json={**GOOD, **change}, headers=shop.headers)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert counts(app) == before


def test_non_json_and_wrong_shapes_are_422_not_500(client, shop):
    assert (
        client.post(
            "/api/v1/products",
            data="{oops",
            headers={**shop.headers, "Content-Type": "application/json"},
        ).status_code
        == 422
    )
    assert client.post("/api/v1/products", json=[1, 2], headers=shop.headers).status_code == 422


def test_missing_product_is_404(client):
    response = client.get("/api/v1/products/999999")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_only_the_owning_merchant_edits_a_product(
    app, client, shop, make_shop, make_product, buyer_headers
):
    product_id = make_product(shop, stock=5)
    rival = make_shop("rival")
    before = counts(app)
    for headers, status in ((rival.headers, 404), (buyer_headers, 403)):
        response = client.patch(
            f"/api/v1/products/{product_id}", json={"price_cents": 1}, headers=headers
        )
        assert response.status_code == status
        response = client.delete(f"/api/v1/products/{product_id}", headers=headers)
        assert response.status_code == status
    assert counts(app) == before

    response = client.patch(
        f"/api/v1/products/{product_id}",
        json={"price_cents": 999, "stock": 12},
        headers=shop.headers,
    )
    assert response.status_code == 200
    assert response.json["price_cents"] == 999 and response.json["stock"] == 12


def test_patch_refuses_null_and_negative_values(app, client, shop, make_product):
    product_id = make_product(shop)
    before = counts(app)
    assert (
        client.patch(
            f"/api/v1/products/{product_id}", json={"price_cents": None}, headers=shop.headers
        ).status_code
        == 422
    )
    response = client.patch(
        f"/api/v1/products/{product_id}", json={"price_cents": -5}, headers=shop.headers
    )
    assert response.status_code == 422 and "price_cents" in response.json["error"]["fields"]
    assert counts(app) == before


def test_archived_products_disappear_for_everyone_but_their_merchant(
    client, shop, make_product, buyer_headers
):
    product_id = make_product(shop)
    assert client.delete(f"/api/v1/products/{product_id}", headers=shop.headers).status_code == 204
    assert client.get(f"/api/v1/products/{product_id}").status_code == 404
    assert client.get(f"/api/v1/products/{product_id}", headers=buyer_headers).status_code == 404
    own = client.get(f"/api/v1/products/{product_id}", headers=shop.headers)
    assert own.status_code == 200 and own.json["archived"] is True and own.json["stock"] == 0
    # Archived products cannot be changed any more.
    assert (
        client.patch(
            f"/api/v1/products/{product_id}", json={"stock": 3}, headers=shop.headers
        ).status_code
        == 409
    )


def test_merchant_lists_own_products(client, shop, make_shop, make_product):
    make_product(shop, "Mine")
    make_product(make_shop("other"), "Theirs")
    names = [
        p["name"]
        for p in client.get("/api/v1/merchant/products", headers=shop.headers).json["items"]
    ]
    assert names == ["Mine"]


# --- images --------------------------------------------------------------------------


def test_image_upload_is_checked_reencoded_and_served(app, client, shop, make_product, tmp_path):
    product_id = make_product(shop)
    response = client.post(
        f"/api/v1/products/{product_id}/image",
        headers=shop.headers,
        data={"image": (io.BytesIO(png_bytes()), "photo.png")},
    )
    assert response.status_code == 200, response.json
    url = response.json["image_url"]
    assert url.startswith("/shop/images/") and url.endswith(".png")
    with client.get(url) as served:
        assert served.status_code == 200 and served.mimetype == "image/png"
        assert Image.open(io.BytesIO(served.data)).size == (40, 30)
    stored = list((tmp_path / "uploads" / "products").iterdir())
    assert len(stored) == 1 and stored[0].name == url.rsplit("/", 1)[1]


@pytest.mark.parametrize(
    "payload, filename",
    [
        (b"GIF89a not really an image at all", "fake.gif"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.svg"),
        (b"%PDF-1.4 pretend", "doc.png"),
        (b"", "empty.png"),
    ],
)
def test_non_images_are_refused_and_nothing_is_stored(
    app, client, shop, make_product, tmp_path, payload, filename
):
    product_id = make_product(shop)
    before = counts(app)
    response = client.post(
        f"/api/v1/products/{product_id}/image",
        headers=shop.headers,
        data={"image": (io.BytesIO(payload), filename)},
    )
    assert response.status_code == 422
    assert (
        response.json["error"]["code"] == "invalid_image"
        and "image" in response.json["error"]["fields"]
    )
    assert counts(app) == before
    assert not (tmp_path / "uploads" / "products").exists() or not list(
        (tmp_path / "uploads" / "products").iterdir()
    )
    assert client.get(f"/api/v1/products/{product_id}").json["image_url"] is None


@pytest.fixture
def config_overrides():
    return {"UPLOAD_MAX_BYTES": 50_000}


def test_oversized_images_are_refused(app, client, shop, make_product, tmp_path):
    product_id = make_product(shop)
    noisy = io.BytesIO()
    Image.effect_noise((400, 400), 90).convert("RGB").save(noisy, "PNG")
    assert len(noisy.getvalue()) > 50_000
    response = client.post(
        f"/api/v1/products/{product_id}/image",
        headers=shop.headers,
        data={"image": (io.BytesIO(noisy.getvalue()), "big.png")},
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "image_too_large"
    assert not (tmp_path / "uploads" / "products").exists()


def test_only_the_owner_uploads_images(client, shop, make_shop, make_product):
    product_id = make_product(shop)
    rival = make_shop("rival")
    response = client.post(
        f"/api/v1/products/{product_id}/image",
        headers=rival.headers,
        data={"image": (io.BytesIO(png_bytes()), "p.png")},
    )
    assert response.status_code == 404


def test_image_names_are_validated(client):
    assert client.get("/shop/images/../../etc/passwd").status_code == 404
    assert client.get("/shop/images/notahexname.png").status_code == 404
    assert client.get("/shop/images/" + "a" * 32 + ".png").status_code == 404


def test_decompression_bombs_are_refused_before_decoding(app, client, shop, make_product):
    product_id = make_product(shop)
    bomb = io.BytesIO()
    Image.new("1", (8000, 6000)).save(bomb, "PNG")  # tiny file, 48 million pixels
    assert len(bomb.getvalue()) < 50_000
    before = counts(app)
    response = client.post(
        f"/api/v1/products/{product_id}/image",
        headers=shop.headers,
        data={"image": (io.BytesIO(bomb.getvalue()), "bomb.png")},
    )
    assert response.status_code == 422 and response.json["error"]["code"] == "invalid_image"
    assert counts(app) == before
