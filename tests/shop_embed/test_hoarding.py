"""Stock hoarding: offline payment is a shop's opt-in, a hold never outlives its offer's
payment window, and one buyer's unpaid units of a product are capped."""

from datetime import timedelta

import time_machine

from forum.clock import now
from tests.conftest import login

from .conftest import counts, order_body


def place(client, headers, *lines):
    return client.post("/api/v1/orders", json=order_body(*lines), headers=headers)


def pay(client, order_id, headers, provider):
    return client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": provider}, headers=headers
    )


def test_a_shop_that_did_not_opt_in_refuses_offline_payment(
    app, client, make_shop, make_product, buyer_headers
):
    plain = make_shop("plain", offline_payments=False)
    product_id = make_product(plain, stock=10)
    order = place(client, buyer_headers, (product_id, 2)).json
    before = counts(app)
    refused = pay(client, order["id"], buyer_headers, "offline")
    assert refused.status_code == 422, refused.json
    assert refused.json["error"]["code"] == "provider_unavailable"
    assert refused.json["error"]["fields"]["provider"] == [
        "This shop does not take offline payments."
    ]
    assert counts(app) == before
    assert (
        client.get(f"/api/v1/orders/{order['id']}", headers=buyer_headers).json["expires_at"]
        == order["expires_at"]
    )


def test_the_checkout_of_a_shop_without_offline_payment_does_not_offer_it(
    app, client, make_shop, make_product, buyer
):
    plain = make_shop("plain", offline_payments=False)
    takes_offline = make_shop("takes", offline_payments=True)
    plain_product = make_product(plain, stock=10)
    offline_product = make_product(takes_offline, stock=10)
    login(client, buyer)
    page = client.get(f"/shop/checkout?product={plain_product}&quantity=1")
    assert page.status_code == 200
    assert 'value="sandbox"' in page.text and 'value="offline"' not in page.text
    page = client.get(f"/shop/checkout?product={offline_product}&quantity=1")
    assert 'value="offline"' in page.text


def test_a_merchant_opts_in_to_offline_payment_on_the_profile_page(
    app, client, make_shop, make_product, buyer_headers
):
    plain = make_shop("plain", offline_payments=False)
    product_id = make_product(plain, stock=10)
    login(client, plain.user)
    form = {
        "name": "Plain Store",
        "slug": "plain",
        "logo_initials": "PL",
        "currency": "USD",
        "shipping_fee": "5.00",
        "offline_payments": "y",
    }
    saved = client.post("/shop/merchant/profile", data=form)
    assert saved.status_code == 302, saved.text
    order = place(client, buyer_headers, (product_id, 1)).json
    assert pay(client, order["id"], buyer_headers, "offline").status_code == 200


def test_one_buyer_cannot_hold_more_unpaid_units_of_a_product_than_the_cap(
    app, client, shop, make_product, buyer_headers
):
    app.config["SHOP_MAX_HELD_UNITS"] = 5
    app.config["SHOP_MAX_PENDING_ORDERS"] = 50
    product_id = make_product(shop, stock=300)
    other_id = make_product(shop, "Other", stock=300)
    first = place(client, buyer_headers, (product_id, 3))
    assert first.status_code == 201
    assert place(client, buyer_headers, (product_id, 2)).status_code == 201
    before = counts(app)
    refused = place(client, buyer_headers, (other_id, 1), (product_id, 1))
    assert refused.status_code == 409, refused.json
    assert refused.json["error"]["code"] == "too_many_held_units"
    assert list(refused.json["error"]["fields"]) == ["items.1.quantity"]
    assert counts(app) == before
    # Paying frees the allowance (sold units are not held); so does the hold running out.
    assert pay(client, first.json["id"], buyer_headers, "sandbox").json["status"] == "paid"
    assert place(client, buyer_headers, (product_id, 3)).status_code == 201
    with time_machine.travel(now() + timedelta(minutes=31), tick=False):
        assert place(client, buyer_headers, (product_id, 5)).status_code == 201
