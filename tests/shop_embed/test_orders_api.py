"""Orders through the API: placing, visibility, payment, fulfilment, refunds and their history."""

import pytest

from .conftest import conservation, counts, order_body


def place(client, headers, *lines, **kwargs):
    return client.post("/api/v1/orders", json=order_body(*lines, **kwargs), headers=headers)


def stock_of(client, product_id):
    return client.get(f"/api/v1/products/{product_id}").json["stock"]


def test_placing_an_order_reserves_stock_and_prices_in_cents(
    client, shop, make_product, buyer_headers
):
    widget = make_product(shop, "Widget", price_cents=1250, stock=10)
    gadget = make_product(shop, "Gadget", price_cents=999, stock=4)
    response = place(client, buyer_headers, (widget, 2), (gadget, 1))
    assert response.status_code == 201, response.json
    order = response.json
    assert order["status"] == "pending" and order["kind"] == "standard"
    assert order["subtotal_cents"] == 2 * 1250 + 999
    assert order["shipping_cents"] == 500  # under the 50.00 free-shipping threshold
    assert order["total_cents"] == 3499 + 500
    assert [(i["product_id"], i["quantity"], i["line_total_cents"]) for i in order["items"]] == [
        (widget, 2, 2500),
        (gadget, 1, 999),
    ]
    assert order["shipping_address"]["city"] == "Springfield"
    assert order["source"] is None and order["expires_at"]
    assert stock_of(client, widget) == 8 and stock_of(client, gadget) == 3


def test_free_shipping_from_the_threshold(client, shop, make_product, buyer_headers):
    widget = make_product(shop, price_cents=2500)
    order = place(client, buyer_headers, (widget, 2)).json
    assert (
        order["subtotal_cents"] == 5000
        and order["shipping_cents"] == 0
        and order["total_cents"] == 5000
    )


def test_insufficient_stock_is_409_and_nothing_is_written(
    app, client, shop, make_product, buyer_headers
):
    widget = make_product(shop, stock=3)
    gadget = make_product(shop, "Gadget", stock=10)
    before = counts(app)
    response = place(client, buyer_headers, (gadget, 2), (widget, 4))
    assert response.status_code == 409
    error = response.json["error"]
    assert error["code"] == "insufficient_stock"
    assert error["fields"] == {"items.1.quantity": ["Only 3 left of Widget."]}
    assert counts(app) == before  # gadget's units were taken, then rolled back


@pytest.mark.parametrize(
    "lines, field",
    [
        ([(1, 0)], "items.0.quantity"),
        ([(1, -2)], "items.0.quantity"),
        ([(1, 100)], "items.0.quantity"),
        ([(1, 10**12)], "items.0.quantity"),
        ([(1, 60), (1, 60)], "items.1.quantity"),  # repeats are merged and capped too
    ],
)
def test_zero_negative_or_huge_quantities_are_422(
    app, client, shop, make_product, buyer_headers, lines, field
):
    widget = make_product(shop, stock=500)
    lines = [(widget, qty) for _, qty in lines]
    before = counts(app)
    response = place(client, buyer_headers, *lines)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert counts(app) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"items": []}, "items"),
        ({"items": [{"product_id": "1", "quantity": 1}]}, "items.0.product_id"),
        ({"items": [{"product_id": 1}]}, "items.0.quantity"),
        ({"items": [{"product_id": 1, "quantity": 1.5}]}, "items.0.quantity"),
        ({}, "items"),
        (
            {"items": [{"product_id": 1, "quantity": 1}], "shipping_address": {"name": "x"}},
            "shipping_address.line1",
        ),
    ],
)
def test_malformed_order_bodies_are_422(app, client, buyer_headers, body, field):
    before = counts(app)
    response = client.post("/api/v1/orders", json=body, headers=buyer_headers)
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]
    assert counts(app) == before


def test_blank_address_fields_are_refused(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop)
    body = order_body((widget, 1))
    body["shipping_address"]["city"] = "   "
    before = counts(app)
    response = client.post("/api/v1/orders", json=body, headers=buyer_headers)
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"shipping_address.city": ["Required."]}
    assert counts(app) == before


def test_unknown_or_unavailable_products_are_422(app, client, shop, make_product, buyer_headers):
    hidden = make_product(shop, "Hidden", active=False)
    archived = make_product(shop, "Old")
    client.delete(f"/api/v1/products/{archived}", headers=shop.headers)
    before = counts(app)
    for product_id in (987654, hidden, archived):
        response = place(client, buyer_headers, (product_id, 1))
        assert response.status_code == 422
        assert response.json["error"]["code"] == "unknown_product"
        assert "items.0.product_id" in response.json["error"]["fields"]
    assert counts(app) == before


def test_an_order_is_for_one_merchant_at_a_time(
    app, client, shop, make_shop, make_product, buyer_headers
):
    mine = make_product(shop)
    theirs = make_product(make_shop("rival"))
    before = counts(app)
    response = place(client, buyer_headers, (mine, 1), (theirs, 1))
    assert response.status_code == 422
    assert response.json["error"]["code"] == "mixed_merchants"
    assert counts(app) == before


def test_anonymous_cannot_order(client, shop, make_product):
    widget = make_product(shop)
    assert client.post("/api/v1/orders", json=order_body((widget, 1))).status_code == 401


def test_who_may_see_an_order(
    client, shop, make_shop, make_product, make_user, token_for, buyer_headers
):
    widget = make_product(shop)
    order_id = place(client, buyer_headers, (widget, 1)).json["id"]
    admin = token_for(make_user("boss", role="admin"))
    for headers in (buyer_headers, shop.headers, admin):
        response = client.get(f"/api/v1/orders/{order_id}", headers=headers)
        assert response.status_code == 200
        assert (
            response.json["items"][0]["product_id"] == widget and response.json["total_cents"] > 0
        )
    for headers in (
        token_for(make_user("snoop")),
        make_shop("rival").headers,
        token_for(make_user("mod", role="moderator")),
    ):
        response = client.get(f"/api/v1/orders/{order_id}", headers=headers)
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/orders/{order_id}").status_code == 401
    assert client.get("/api/v1/orders/424242", headers=buyer_headers).status_code == 404


def test_buyers_list_only_their_orders_and_merchants_only_theirs(
    client, shop, make_shop, make_product, make_user, token_for, buyer_headers
):
    widget = make_product(shop)
    rival = make_shop("rival")
    other_product = make_product(rival, "Other")
    other_buyer = token_for(make_user("otherbuyer"))
    mine = place(client, buyer_headers, (widget, 1)).json["id"]
    place(client, other_buyer, (widget, 1))
    place(client, other_buyer, (other_product, 1))
    assert [o["id"] for o in client.get("/api/v1/orders", headers=buyer_headers).json["items"]] == [
        mine
    ]
    assert len(client.get("/api/v1/merchant/orders", headers=shop.headers).json["items"]) == 2
    assert len(client.get("/api/v1/merchant/orders", headers=rival.headers).json["items"]) == 1
    assert client.get("/api/v1/merchant/orders", headers=buyer_headers).status_code == 403
    assert (
        client.get("/api/v1/merchant/orders?status=bogus", headers=shop.headers).status_code == 422
    )
    assert client.get("/api/v1/orders?cursor=%%%", headers=buyer_headers).status_code == 422


def test_sandbox_pays_at_once(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop, stock=5)
    order_id = place(client, buyer_headers, (widget, 2)).json["id"]
    response = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    assert response.status_code == 200, response.json
    order = response.json
    assert order["status"] == "paid" and order["paid_at"] and order["expires_at"] is None
    assert order["payment"]["provider"] == "sandbox" and order["payment"]["status"] == "succeeded"
    assert [e["type"] for e in order["events"]] == ["placed", "paid"]
    assert stock_of(client, widget) == 3
    assert conservation(app, widget, 5) == {"remaining": 3, "sold": 2, "held": 0}
    again = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    assert again.status_code == 409 and again.json["error"]["code"] == "already_paid"


def test_only_the_buyer_pays(app, client, shop, make_product, make_user, token_for, buyer_headers):
    widget = make_product(shop)
    order_id = place(client, buyer_headers, (widget, 1)).json["id"]
    before = counts(app)
    assert (
        client.post(
            f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=shop.headers
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/orders/{order_id}/pay",
            json={"provider": "sandbox"},
            headers=token_for(make_user("stranger")),
        ).status_code
        == 404
    )
    assert counts(app) == before


def test_unknown_provider_is_422(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop)
    order_id = place(client, buyer_headers, (widget, 1)).json["id"]
    before = counts(app)
    response = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "bitcoin"}, headers=buyer_headers
    )
    assert response.status_code == 422 and "provider" in response.json["error"]["fields"]
    assert (
        client.post(f"/api/v1/orders/{order_id}/pay", json={}, headers=buyer_headers).status_code
        == 422
    )
    assert counts(app) == before


def test_offline_payment_waits_for_the_merchant(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop, stock=4)
    order_id = place(client, buyer_headers, (widget, 1)).json["id"]
    response = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "offline"}, headers=buyer_headers
    )
    assert response.status_code == 200
    assert response.json["status"] == "pending" and response.json["payment"]["status"] == "awaiting"
    assert (
        client.post(f"/api/v1/orders/{order_id}/mark-paid", headers=buyer_headers).status_code
        == 403
    )
    marked = client.post(f"/api/v1/orders/{order_id}/mark-paid", headers=shop.headers)
    assert marked.status_code == 200
    assert marked.json["status"] == "paid" and marked.json["payment"]["status"] == "succeeded"
    assert [e["type"] for e in marked.json["events"]] == ["placed", "payment_started", "paid"]
    assert conservation(app, widget, 4) == {"remaining": 3, "sold": 1, "held": 0}


def test_full_lifecycle_and_its_history(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop, stock=6)
    order_id = place(client, buyer_headers, (widget, 2)).json["id"]
    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    assert (
        client.post(f"/api/v1/orders/{order_id}/complete", headers=buyer_headers).status_code == 409
    )
    assert (
        client.post(
            f"/api/v1/orders/{order_id}/ship", json={"tracking": "TRK1"}, headers=buyer_headers
        ).status_code
        == 403
    )
    shipped = client.post(
        f"/api/v1/orders/{order_id}/ship", json={"tracking": "TRK1"}, headers=shop.headers
    )
    assert shipped.status_code == 200 and shipped.json["status"] == "shipped"
    done = client.post(f"/api/v1/orders/{order_id}/complete", headers=buyer_headers)
    assert done.status_code == 200 and done.json["status"] == "completed"
    events = done.json["events"]
    assert [(e["type"], e["from_status"], e["to_status"]) for e in events] == [
        ("placed", None, "pending"),
        ("paid", "pending", "paid"),
        ("shipped", "paid", "shipped"),
        ("completed", "shipped", "completed"),
    ]
    assert events[2]["params"]["tracking"] == "TRK1" and events[2]["actor"]["username"] == "acme"
    assert conservation(app, widget, 6)["sold"] == 2


def test_refund_restores_stock_and_is_for_the_merchant_or_an_admin(
    app, client, shop, make_product, make_user, token_for, buyer_headers
):
    widget = make_product(shop, stock=5)
    order_id = place(client, buyer_headers, (widget, 3)).json["id"]
    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    assert stock_of(client, widget) == 2
    before = counts(app)
    assert (
        client.post(f"/api/v1/orders/{order_id}/refund", headers=buyer_headers).status_code == 403
    )
    assert (
        client.post(
            f"/api/v1/orders/{order_id}/refund", headers=token_for(make_user("stranger"))
        ).status_code
        == 404
    )
    assert counts(app) == before
    response = client.post(
        f"/api/v1/orders/{order_id}/refund", json={"reason": "damaged"}, headers=shop.headers
    )
    assert response.status_code == 200
    assert response.json["status"] == "refunded" and response.json["refunded_at"]
    assert response.json["payment"]["status"] == "refunded"
    assert response.json["events"][-1]["type"] == "refunded"
    assert response.json["events"][-1]["params"]["reason"] == "damaged"
    assert stock_of(client, widget) == 5
    assert conservation(app, widget, 5) == {"remaining": 5, "sold": 0, "held": 0}
    again = client.post(f"/api/v1/orders/{order_id}/refund", headers=shop.headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_status"
    assert stock_of(client, widget) == 5


def test_admin_refunds_any_order(client, shop, make_product, make_user, token_for, buyer_headers):
    widget = make_product(shop, stock=2)
    order_id = place(client, buyer_headers, (widget, 1)).json["id"]
    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    response = client.post(
        f"/api/v1/orders/{order_id}/refund", headers=token_for(make_user("boss", role="admin"))
    )
    assert response.status_code == 200 and response.json["status"] == "refunded"


def test_unpaid_orders_cannot_be_refunded_but_can_be_cancelled(
    app, client, shop, make_product, buyer_headers
):
    widget = make_product(shop, stock=5)
    order_id = place(client, buyer_headers, (widget, 2)).json["id"]
    assert client.post(f"/api/v1/orders/{order_id}/refund", headers=shop.headers).status_code == 409
    assert client.post(f"/api/v1/orders/{order_id}/ship", headers=shop.headers).status_code == 409
    cancelled = client.post(
        f"/api/v1/orders/{order_id}/cancel",
        json={"reason": "changed my mind"},
        headers=buyer_headers,
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert stock_of(client, widget) == 5
    assert conservation(app, widget, 5) == {"remaining": 5, "sold": 0, "held": 0}
    paid = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    assert paid.status_code == 409 and paid.json["error"]["code"] == "invalid_status"


def test_paid_orders_cannot_be_cancelled(client, shop, make_product, buyer_headers):
    widget = make_product(shop)
    order_id = place(client, buyer_headers, (widget, 1)).json["id"]
    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    response = client.post(f"/api/v1/orders/{order_id}/cancel", headers=buyer_headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "invalid_status"


def test_openapi_lists_the_shop(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/api/v1/products",
        "/api/v1/products/{product_id}",
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/pay",
        "/api/v1/orders/{order_id}/refund",
    ):
        assert path in paths


ADDRESS = {
    "name": "Bea Buyer",
    "line1": "1 Market St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


def test_the_buyer_gives_an_address_until_the_order_ships(
    app, client, shop, make_product, buyer, buyer_headers, make_user, token_for
):
    widget = make_product(shop, stock=5)
    order_id = place(client, buyer_headers, (widget, 1), address=False).json["id"]
    url = f"/api/v1/orders/{order_id}/shipping-address"
    assert (
        client.get(f"/api/v1/orders/{order_id}", headers=buyer_headers).json["shipping_address"]
        is None
    )

    before = counts(app)
    incomplete = client.put(
        url, json={"shipping_address": {**ADDRESS, "city": ""}}, headers=buyer_headers
    )
    assert incomplete.status_code == 422
    assert incomplete.json["error"]["fields"] == {"shipping_address.city": ["Required."]}
    missing = client.put(url, json={}, headers=buyer_headers)
    assert missing.status_code == 422 and "shipping_address" in missing.json["error"]["fields"]
    # Only the buyer: the merchant is refused, a stranger does not see the order at all.
    assert (
        client.put(url, json={"shipping_address": ADDRESS}, headers=shop.headers).status_code == 403
    )
    stranger = token_for(make_user("stranger"))
    assert client.put(url, json={"shipping_address": ADDRESS}, headers=stranger).status_code == 404
    assert counts(app) == before

    given = client.put(url, json={"shipping_address": ADDRESS}, headers=buyer_headers)
    assert given.status_code == 200, given.json
    assert given.json["shipping_address"]["city"] == "Springfield"
    assert given.json["events"][-1]["type"] == "address_set"
    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    moved = client.put(
        url, json={"shipping_address": {**ADDRESS, "line1": "2 Elm St"}}, headers=buyer_headers
    )
    assert moved.status_code == 200 and moved.json["shipping_address"]["line1"] == "2 Elm St"

    client.post(f"/api/v1/orders/{order_id}/ship", json={"tracking": "T"}, headers=shop.headers)
    late = client.put(url, json={"shipping_address": ADDRESS}, headers=buyer_headers)
    assert late.status_code == 409 and late.json["error"]["code"] == "already_shipped"
    shown = client.get(f"/api/v1/orders/{order_id}", headers=buyer_headers).json
    assert shown["shipping_address"]["line1"] == "2 Elm St"


def test_the_last_address_is_offered_again(app, client, shop, make_product, buyer, buyer_headers):
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.shop_embed import service
    from tests.conftest import app_context

    widget = make_product(shop, stock=5)
    with app_context(app):
        assert service.saved_address(db.session.get(User, buyer.id)) == {}
    place(client, buyer_headers, (widget, 1))
    place(client, buyer_headers, (widget, 1), address=False)
    with app_context(app):
        assert service.saved_address(db.session.get(User, buyer.id))["city"] == "Springfield"
