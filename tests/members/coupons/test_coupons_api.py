"""Coupons through the API: created by merchants and admins, used on orders, checkout and
quotes with the totals they produce, read back with their uses; others see 403/404."""

from sqlalchemy import select

from forum.extensions import db
from tests.conftest import app_context

from .conftest import coupon_rows, order_body


def test_admin_site_coupon_discounts_an_order_and_counts_a_use(
    client, admin_headers, buyer_headers, product, make_coupon
):
    coupon = make_coupon(admin_headers, "welcome10", max_uses=5)
    assert coupon["code"] == "WELCOME10" and coupon["scope"] == "site"
    assert coupon["merchant"] is None and coupon["uses"] == 0 and coupon["uses_left"] == 5

    response = client.post(
        "/api/v1/orders", json=order_body(product, 2, coupon="welcome10"), headers=buyer_headers
    )
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    # 2 x 20.00 = 40.00, 10% off = 4.00, shipping 5.00 (free only from 50.00 of goods)
    assert order["subtotal_cents"] == 4000
    assert order["discount_cents"] == 400
    assert order["shipping_cents"] == 500
    assert order["total_cents"] == 4100
    assert {"kind": "coupon", "label": "Coupon WELCOME10 (−10%)", "amount_cents": -400} in order[
        "adjustments"
    ]

    read = client.get("/api/v1/coupons/WELCOME10", headers=admin_headers).get_json()
    assert read["uses"] == 1 and read["uses_left"] == 4 and read["discount_cents"] == 400


def test_quote_and_checkout_show_the_same_totals(
    client, admin_headers, buyer_headers, product, make_coupon
):
    make_coupon(admin_headers, "FIVEOFF", kind="fixed", value=500, currency="USD")
    quote = client.post(
        "/api/v1/checkout/quote",
        json={"items": [{"product_id": product, "quantity": 1}], "coupon_code": "fiveoff"},
        headers=buyer_headers,
    )
    assert quote.status_code == 200, quote.get_json()
    quoted = quote.get_json()
    assert quoted["discount_cents"] == 500
    assert quoted["total_cents"] == 2000 - 500 + 500
    # A quote writes nothing: no use is taken.
    assert coupon_rows(client.application)["uses"] == {"FIVEOFF": 0}

    paid = client.post(
        "/api/v1/checkout",
        json={**order_body(product, coupon="FIVEOFF"), "provider": "sandbox"},
        headers=buyer_headers,
    )
    assert paid.status_code == 201, paid.get_json()
    order = paid.get_json()
    assert order["status"] == "paid"
    assert order["total_cents"] == quoted["total_cents"]
    assert order["discount_cents"] == 500
    assert order["payment"]["provider"] == "sandbox"
    assert coupon_rows(client.application)["uses"] == {"FIVEOFF": 1}


def test_merchant_shop_coupon_is_in_the_shop_currency(client, shop, make_coupon):
    coupon = make_coupon(shop.headers, "ACME5", kind="fixed", value=500)
    assert coupon["scope"] == "shop"
    assert coupon["merchant"]["id"] == shop.merchant_id and coupon["currency"] == "USD"
    response = client.post(
        "/api/v1/coupons",
        json={"code": "ACME6", "kind": "fixed", "value": 500, "currency": "EUR"},
        headers=shop.headers,
    )
    assert response.status_code == 422
    assert "currency" in response.get_json()["error"]["fields"]


def test_code_taken_is_409_and_writes_nothing(client, admin_headers, shop, make_coupon):
    make_coupon(admin_headers, "SAME")
    response = client.post(
        "/api/v1/coupons",
        json={"code": "same", "kind": "percent", "value": 500},
        headers=shop.headers,
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "code_taken"
    assert coupon_rows(client.application)["uses"] == {"SAME": 0}


def test_members_cannot_create_coupons_and_merchants_not_site_wide(client, buyer_headers, shop):
    body = {"code": "NOPE", "kind": "percent", "value": 500}
    assert client.post("/api/v1/coupons", json=body, headers=buyer_headers).status_code == 403
    site = client.post("/api/v1/coupons", json={**body, "scope": "site"}, headers=shop.headers)
    assert site.status_code == 403
    assert coupon_rows(client.application)["uses"] == {}


def test_invalid_fields_are_422_with_each_field(client, admin_headers):
    response = client.post(
        "/api/v1/coupons",
        json={
            "code": "x",
            "kind": "percent",
            "value": 20000,
            "per_user_limit": 0,
            "audience": "gold",
            "ends_at": "2001-01-01T00:00:00+00:00",
        },
        headers=admin_headers,
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"code", "value", "per_user_limit", "audience", "ends_at"} <= set(fields)
    bad_kind = client.post(
        "/api/v1/coupons", json={"code": "OKAY", "kind": "bogo", "value": 1}, headers=admin_headers
    )
    assert bad_kind.status_code == 422 and "kind" in bad_kind.get_json()["error"]["fields"]


def test_another_merchant_gets_404_for_a_shop_coupon(
    client, shop, make_shop, make_coupon, buyer_headers, admin_headers
):
    make_coupon(shop.headers, "ACMEONLY")
    other = make_shop("rival")
    assert client.get("/api/v1/coupons/ACMEONLY", headers=other.headers).status_code == 404
    assert client.get("/api/v1/coupons/ACMEONLY", headers=buyer_headers).status_code == 404
    assert (
        client.patch(
            "/api/v1/coupons/ACMEONLY", json={"active": False}, headers=other.headers
        ).status_code
        == 404
    )
    # The owner and an admin see it; lists show only one's own.
    assert client.get("/api/v1/coupons/acmeonly", headers=shop.headers).status_code == 200
    assert client.get("/api/v1/coupons/ACMEONLY", headers=admin_headers).status_code == 200
    assert client.get("/api/v1/coupons", headers=other.headers).get_json()["items"] == []
    mine = client.get("/api/v1/coupons", headers=shop.headers).get_json()["items"]
    assert [c["code"] for c in mine] == ["ACMEONLY"]
    assert client.get("/api/v1/coupons", headers=buyer_headers).status_code == 403


def test_withdrawn_coupon_is_refused_then_back(
    client, admin_headers, buyer_headers, product, make_coupon
):
    make_coupon(admin_headers, "PAUSE")
    off = client.patch("/api/v1/coupons/PAUSE", json={"active": False}, headers=admin_headers)
    assert off.status_code == 200 and off.get_json()["active"] is False
    refused = client.post(
        "/api/v1/orders", json=order_body(product, coupon="PAUSE"), headers=buyer_headers
    )
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "coupon_not_eligible"
    assert "withdrawn" in refused.get_json()["error"]["message"]
    client.patch("/api/v1/coupons/PAUSE", json={"active": True}, headers=admin_headers)
    placed = client.post(
        "/api/v1/orders", json=order_body(product, coupon="PAUSE"), headers=buyer_headers
    )
    assert placed.status_code == 201


def test_replaying_an_idempotency_key_takes_one_use(
    client, app, admin_headers, buyer_headers, product, make_coupon
):
    make_coupon(admin_headers, "ONCE", max_uses=3)
    headers = {**buyer_headers, "Idempotency-Key": "coupon-key-1"}
    first = client.post("/api/v1/orders", json=order_body(product, coupon="ONCE"), headers=headers)
    again = client.post("/api/v1/orders", json=order_body(product, coupon="ONCE"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    rows = coupon_rows(app)
    assert rows["uses"] == {"ONCE": 1} and rows["coupon_redemptions"] == 1
    # The same key with another coupon is another body.
    other = client.post("/api/v1/orders", json=order_body(product), headers=headers)
    assert other.status_code == 422
    with app_context(app):
        db.session.remove()


def test_figures_count_live_uses_and_their_orders_only(
    client, app, shop, admin_headers, buyer_headers, product, make_coupon
):
    from forum.members.coupons import service
    from forum.members.coupons.models import Coupon

    make_coupon(admin_headers, "FIGURES", max_uses=5, per_user_limit=3)
    paid = client.post(
        "/api/v1/checkout",
        json={**order_body(product, coupon="FIGURES"), "provider": "sandbox"},
        headers=buyer_headers,
    ).get_json()
    for step in ("ship", "complete"):
        done = client.post(f"/api/v1/orders/{paid['id']}/{step}", json={}, headers=shop.headers)
        assert done.status_code == 200, done.get_json()
    unpaid = client.post(
        "/api/v1/orders", json=order_body(product, 2, coupon="FIGURES"), headers=buyer_headers
    ).get_json()
    cancelled = client.post(
        "/api/v1/orders", json=order_body(product, 3, coupon="FIGURES"), headers=buyer_headers
    ).get_json()
    client.post(f"/api/v1/orders/{cancelled['id']}/cancel", json={}, headers=buyer_headers)
    plain = client.post("/api/v1/orders", json=order_body(product, 4), headers=buyer_headers)
    assert plain.status_code == 201

    read = client.get("/api/v1/coupons/FIGURES", headers=admin_headers).get_json()
    # 10% of 20.00 and of 40.00; totals add 5.00 shipping each. The cancelled order's
    # use was given back and the coupon-free order is nobody's business here.
    assert read["uses"] == 2 and read["released"] == 1
    assert read["discount_cents"] == 200 + 400
    assert read["revenue_cents"] == paid["total_cents"] + unpaid["total_cents"] == 2300 + 4100
    with app_context(app):
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == "FIGURES"))
        assert service.usage(coupon)["completed_orders"] == 1
        recent = service.recent_redemptions(coupon)
        assert [(r.order_id, o.id, o.status, r.state) for r, o in recent] == [
            (cancelled["id"], cancelled["id"], "cancelled", "released"),
            (unpaid["id"], unpaid["id"], "pending", "active"),
            (paid["id"], paid["id"], "completed", "active"),
        ]
        assert service.recent_redemptions(coupon, limit=1)[0][0].order_id == cancelled["id"]
