"""With CSRF on (as in production), shop forms and cookie-session API calls need the token."""

import re

import pytest

from .conftest import counts


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def test_checkout_without_a_token_writes_nothing(app, shop, make_product, buyer):
    product_id = make_product(shop)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login", data={"username": buyer.username, "password": buyer.password, "csrf_token": token}
    )
    before = counts(app)
    response = client.post(
        f"/shop/checkout?product={product_id}&quantity=1",
        data={
            "name": "Bea",
            "line1": "1 Main St",
            "city": "Town",
            "postal_code": "111",
            "country": "US",
            "provider": "sandbox",
            "idempotency_key": "abcdefghijk",
        },
    )
    assert response.status_code in (400, 422)
    assert counts(app) == before
    api = client.post("/api/v1/orders", json={"items": [{"product_id": product_id, "quantity": 1}]})
    assert api.status_code == 403 and api.json["error"]["code"] == "csrf_failed"
    assert counts(app) == before

    checkout = client.get(f"/shop/checkout?product={product_id}&quantity=1").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', checkout).group(1)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', checkout).group(1)
    placed = client.post(
        f"/shop/checkout?product={product_id}&quantity=1",
        data={
            "name": "Bea",
            "line1": "1 Main St",
            "city": "Town",
            "postal_code": "111",
            "country": "US",
            "provider": "sandbox",
            "idempotency_key": key,
            "csrf_token": form_token,
        },
    )
    assert placed.status_code == 302
