"""Idempotency-Key on POST /orders: a replay returns the first order and writes nothing."""

from .conftest import counts, order_body


def test_same_key_same_body_returns_the_first_order(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop, stock=10)
    headers = {**buyer_headers, "Idempotency-Key": "checkout-7f3a"}
    first = client.post("/api/v1/orders", json=order_body((widget, 2)), headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    before = counts(app)
    replay = client.post("/api/v1/orders", json=order_body((widget, 2)), headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["id"] == first.json["id"] and replay.json == first.json
    assert counts(app) == before
    assert client.get(f"/api/v1/products/{widget}").json["stock"] == 8


def test_same_key_different_body_is_refused(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop, stock=10)
    headers = {**buyer_headers, "Idempotency-Key": "k-1"}
    client.post("/api/v1/orders", json=order_body((widget, 2)), headers=headers)
    before = counts(app)
    response = client.post("/api/v1/orders", json=order_body((widget, 3)), headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json["error"]["fields"]
    assert counts(app) == before


def test_keys_belong_to_one_user(client, shop, make_product, buyer_headers, make_user, token_for):
    widget = make_product(shop, stock=10)
    other = {**token_for(make_user("other")), "Idempotency-Key": "shared"}
    mine = client.post(
        "/api/v1/orders",
        json=order_body((widget, 1)),
        headers={**buyer_headers, "Idempotency-Key": "shared"},
    )
    theirs = client.post("/api/v1/orders", json=order_body((widget, 1)), headers=other)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]


def test_a_refused_order_does_not_burn_its_key(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop, stock=1)
    headers = {**buyer_headers, "Idempotency-Key": "retry-me"}
    assert (
        client.post("/api/v1/orders", json=order_body((widget, 2)), headers=headers).status_code
        == 409
    )
    assert (
        client.post("/api/v1/orders", json=order_body((widget, 1)), headers=headers).status_code
        == 201
    )


def test_the_replay_reflects_the_order_as_it_is_now(client, shop, make_product, buyer_headers):
    widget = make_product(shop, stock=3)
    headers = {**buyer_headers, "Idempotency-Key": "pay-then-replay"}
    order_id = client.post("/api/v1/orders", json=order_body((widget, 1)), headers=headers).json[
        "id"
    ]
    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    replay = client.post("/api/v1/orders", json=order_body((widget, 1)), headers=headers)
    assert (
        replay.status_code == 201
        and replay.json["id"] == order_id
        and replay.json["status"] == "paid"
    )


def test_malformed_keys_are_422(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop)
    before = counts(app)
    for key in ("x" * 129, "has space", "ünïcode"):
        response = client.post(
            "/api/v1/orders",
            json=order_body((widget, 1)),
            headers={**buyer_headers, "Idempotency-Key": key},
        )
        assert response.status_code == 422, key
        assert "Idempotency-Key" in response.json["error"]["fields"]
    assert counts(app) == before
