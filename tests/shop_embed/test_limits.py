"""Limits against hoarding stock with unpaid orders and against order floods."""

import pytest

from .conftest import counts, order_body


@pytest.fixture
def config_overrides():
    return {"RATELIMIT_ENABLED": True, "SHOP_ORDER_LIMIT": "3/minute", "SHOP_MAX_PENDING_ORDERS": 2}


def test_unpaid_orders_per_buyer_are_capped(app, client, shop, make_product, buyer_headers):
    product_id = make_product(shop, stock=50)
    first = client.post("/api/v1/orders", json=order_body((product_id, 1)), headers=buyer_headers)
    client.post("/api/v1/orders", json=order_body((product_id, 1)), headers=buyer_headers)
    before = counts(app)
    refused = client.post("/api/v1/orders", json=order_body((product_id, 1)), headers=buyer_headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "too_many_pending_orders"
    assert counts(app) == before
    # Paying one frees a slot.
    client.post(
        f"/api/v1/orders/{first.json['id']}/pay",
        json={"provider": "sandbox"},
        headers=buyer_headers,
    )
    assert (
        client.post(
            "/api/v1/orders", json=order_body((product_id, 1)), headers=buyer_headers
        ).status_code
        == 201
    )


def test_order_floods_are_rate_limited(app, client, shop, make_product, buyer_headers):
    product_id = make_product(shop, stock=50)
    statuses = []
    for _ in range(4):
        response = client.post(
            "/api/v1/orders", json=order_body((product_id, 1)), headers=buyer_headers
        )
        statuses.append(response.status_code)
        if response.status_code == 201:
            client.post(
                f"/api/v1/orders/{response.json['id']}/pay",
                json={"provider": "sandbox"},
                headers=buyer_headers,
            )
    assert statuses == [201, 201, 201, 429]
