"""Every coupon rule refuses with its own code and message and writes nothing; uses are
given back when an order is cancelled, expires or is refunded in full."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context

from .conftest import coupon_rows, later, order_body


def refused(client, app, headers, body, status, code, words):
    """POST /orders and /checkout/quote with ``body``: both refuse alike; nothing written."""
    before = coupon_rows(app)
    response = client.post("/api/v1/orders", json=body, headers=headers)
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code
    assert words in error["message"], error["message"]
    assert error["fields"]["coupon_code"] == [error["message"]]
    quote = client.post(
        "/api/v1/checkout/quote",
        json={"items": body["items"], "coupon_code": body["coupon_code"]},
        headers=headers,
    )
    assert quote.status_code == status and quote.get_json()["error"]["code"] == code
    checkout = client.post(
        "/api/v1/checkout", json={**body, "provider": "sandbox"}, headers=headers
    )
    assert checkout.status_code == status and checkout.get_json()["error"]["code"] == code
    assert coupon_rows(app) == before


def test_unknown_code(client, app, buyer_headers, product):
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="NOSUCH"),
        422,
        "unknown_coupon",
        "No coupon has the code NOSUCH",
    )


def test_not_yet_valid(client, app, admin_headers, buyer_headers, product, make_coupon):
    make_coupon(admin_headers, "SOON", starts_at=later(days=2))
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="SOON"),
        409,
        "coupon_not_eligible",
        "valid from",
    )


def test_expired(client, app, admin_headers, buyer_headers, product, make_coupon):
    make_coupon(admin_headers, "SHORT", ends_at=later(hours=1))
    with time_machine.travel(now() + timedelta(hours=2), tick=False):
        refused(
            client,
            app,
            buyer_headers,
            order_body(product, coupon="SHORT"),
            409,
            "coupon_not_eligible",
            "expired on",
        )


def test_used_up(
    client, app, admin_headers, buyer_headers, make_user, token_for, product, make_coupon
):
    make_coupon(admin_headers, "ONLYONE", max_uses=1)
    other = token_for(make_user("first"))
    assert (
        client.post(
            "/api/v1/orders", json=order_body(product, coupon="ONLYONE"), headers=other
        ).status_code
        == 201
    )
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="ONLYONE"),
        409,
        "coupon_exhausted",
        "used up",
    )


def test_per_member_limit(client, app, admin_headers, buyer_headers, product, make_coupon):
    make_coupon(admin_headers, "TWICE", per_user_limit=2)
    for _ in range(2):
        assert (
            client.post(
                "/api/v1/orders", json=order_body(product, coupon="TWICE"), headers=buyer_headers
            ).status_code
            == 201
        )
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="TWICE"),
        409,
        "coupon_exhausted",
        "already used this coupon 2 times",
    )


def test_below_minimum(client, app, admin_headers, buyer_headers, product, make_coupon):
    make_coupon(admin_headers, "BIGSPEND", min_subtotal_cents=5000)
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, 2, coupon="BIGSPEND"),
        409,
        "coupon_not_eligible",
        "at least $50.00",
    )
    # At the minimum it applies.
    ok = client.post(
        "/api/v1/checkout/quote",
        json={"items": [{"product_id": product, "quantity": 3}], "coupon_code": "BIGSPEND"},
        headers=buyer_headers,
    )
    assert ok.status_code == 200 and ok.get_json()["discount_cents"] == 600


def test_wrong_tier(client, app, admin_headers, buyer_headers, product, make_coupon):
    make_coupon(admin_headers, "VIPONLY", audience="vip")
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="VIPONLY"),
        409,
        "coupon_not_eligible",
        "for VIP members only",
    )


def test_tier_audience_admits_that_tier(
    client, app, admin_headers, buyer, buyer_headers, product, make_coupon
):
    from forum.accounts.models import User

    make_coupon(admin_headers, "VIPTOO", audience="vip")
    with app_context(app):
        db.session.get(User, buyer.id).tier = "vip"
        db.session.commit()
    placed = client.post(
        "/api/v1/orders", json=order_body(product, coupon="VIPTOO"), headers=buyer_headers
    )
    assert placed.status_code == 201 and placed.get_json()["discount_cents"] == 200


def test_wrong_number_of_completed_orders(
    client, app, admin_headers, buyer_headers, product, make_coupon
):
    make_coupon(admin_headers, "COMEBACK", completed_orders=1)
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="COMEBACK"),
        409,
        "coupon_not_eligible",
        "exactly 1 completed order; you have 0",
    )


def test_second_purchase_coupon_needs_exactly_one_completed_order(
    client, app, admin_headers, buyer, buyer_headers, product, make_coupon, complete_order
):
    make_coupon(admin_headers, "SECOND15", value=1500, completed_orders=1)
    # A paid but not yet completed order does not count.
    complete_order(buyer, product, status="paid")
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="SECOND15"),
        409,
        "coupon_not_eligible",
        "you have 0",
    )
    complete_order(buyer, product)
    placed = client.post(
        "/api/v1/orders", json=order_body(product, 2, coupon="SECOND15"), headers=buyer_headers
    )
    assert placed.status_code == 201, placed.get_json()
    assert placed.get_json()["discount_cents"] == 600  # 15% of 40.00
    complete_order(buyer, product)  # now two completed orders: no longer for them
    client.post(f"/api/v1/orders/{placed.get_json()['id']}/cancel", json={}, headers=buyer_headers)
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="SECOND15"),
        409,
        "coupon_not_eligible",
        "you have 2",
    )


def test_not_first_order(
    client, app, admin_headers, buyer, buyer_headers, product, make_coupon, complete_order
):
    make_coupon(admin_headers, "HELLO", first_order_only=True)
    complete_order(buyer, product, status="paid")
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="HELLO"),
        409,
        "coupon_not_eligible",
        "first order only",
    )


def test_an_unpaid_order_counts_as_a_first_order(
    client, app, admin_headers, buyer_headers, product, make_coupon
):
    make_coupon(admin_headers, "FIRSTIE", first_order_only=True, per_user_limit=5)
    assert (
        client.post("/api/v1/orders", json=order_body(product), headers=buyer_headers).status_code
        == 201
    )
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="FIRSTIE"),
        409,
        "coupon_not_eligible",
        "first order only",
    )


def test_wrong_shop(client, app, shop, make_shop, make_product, buyer_headers, make_coupon):
    make_coupon(shop.headers, "ACMEONLY")
    rival = make_shop("rival")
    theirs = make_product(rival, "Gadget", price_cents=3000)
    refused(
        client,
        app,
        buyer_headers,
        order_body(theirs, coupon="ACMEONLY"),
        409,
        "coupon_not_eligible",
        "for goods from Acme Store only",
    )


def test_wrong_currency(
    client, app, admin_headers, make_shop, make_product, buyer_headers, make_coupon
):
    make_coupon(admin_headers, "DOLLARS", kind="fixed", value=500, currency="USD")
    euro = make_shop("euroshop", currency="EUR")
    item = make_product(euro, "Käse", price_cents=900)
    refused(
        client,
        app,
        buyer_headers,
        order_body(item, coupon="DOLLARS"),
        409,
        "coupon_not_eligible",
        "orders in USD",
    )


def test_segment_audience_without_campaigns_is_refused(
    client, app, admin_headers, buyer_headers, product, make_coupon
):
    from forum.members.coupons.models import Coupon

    make_coupon(admin_headers, "SEGMENT")
    with app_context(app):
        db.session.scalar(select(Coupon).where(Coupon.code == "SEGMENT")).segment_id = 7
        db.session.commit()
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="SEGMENT"),
        409,
        "coupon_not_eligible",
        "selected members",
    )


def test_another_shops_coupon_and_stock_refusal_leave_the_use_untaken(
    client, app, admin_headers, buyer_headers, make_product, shop, make_coupon
):
    make_coupon(admin_headers, "STOCKY", max_uses=2)
    scarce = make_product(shop, "Scarce", price_cents=1000, stock=1)
    before = coupon_rows(app)
    response = client.post(
        "/api/v1/orders", json=order_body(scarce, 2, coupon="STOCKY"), headers=buyer_headers
    )
    assert (
        response.status_code == 409 and response.get_json()["error"]["code"] == "insufficient_stock"
    )
    assert coupon_rows(app) == before


# --- giving uses back ----------------------------------------------------------------


def _uses(app, code):
    return coupon_rows(app)["uses"][code]


@pytest.mark.parametrize("how", ["cancel", "refund"])
def test_cancel_and_full_refund_give_the_use_back(
    client, app, shop, admin_headers, buyer_headers, product, make_coupon, how
):
    make_coupon(admin_headers, "BACKAGAIN", max_uses=1)
    if how == "cancel":
        order = client.post(
            "/api/v1/orders", json=order_body(product, coupon="BACKAGAIN"), headers=buyer_headers
        ).get_json()
        assert _uses(app, "BACKAGAIN") == 1
        client.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=buyer_headers)
    else:
        order = client.post(
            "/api/v1/checkout",
            json={**order_body(product, coupon="BACKAGAIN"), "provider": "sandbox"},
            headers=buyer_headers,
        ).get_json()
        assert _uses(app, "BACKAGAIN") == 1
        done = client.post(f"/api/v1/orders/{order['id']}/refund", json={}, headers=shop.headers)
        assert done.status_code == 200, done.get_json()
    rows = coupon_rows(app)
    assert rows["uses"] == {"BACKAGAIN": 0}
    assert rows["member_uses"][0][2] == 0
    # The order still shows the discount it had; the use may be taken again.
    again = client.post(
        "/api/v1/orders", json=order_body(product, coupon="BACKAGAIN"), headers=buyer_headers
    )
    assert again.status_code == 201
    assert _uses(app, "BACKAGAIN") == 1


def test_an_expired_order_gives_its_use_back_even_before_the_job_runs(
    client, app, admin_headers, buyer_headers, make_user, token_for, product, make_coupon
):
    from forum.members.coupons.models import CouponRedemption
    from forum.shop_embed import service

    make_coupon(admin_headers, "LAPSE", max_uses=1)
    first = client.post(
        "/api/v1/orders", json=order_body(product, coupon="LAPSE"), headers=buyer_headers
    ).get_json()
    other = token_for(make_user("late"))
    with time_machine.travel(now() + timedelta(hours=2), tick=False):
        # The expiry job has not run: the unpaid order is past its deadline, never payable.
        placed = client.post(
            "/api/v1/orders", json=order_body(product, coupon="LAPSE"), headers=other
        )
        assert placed.status_code == 201, placed.get_json()
        assert _uses(app, "LAPSE") == 1
        with app_context(app), app.test_request_context("/"):
            service.expire_due_orders()
            db.session.commit()
            states = dict(
                db.session.execute(select(CouponRedemption.order_id, CouponRedemption.state)).all()
            )
        # The job expiring the first order later gives nothing back twice.
        assert states[first["id"]] == "released"
        assert states[placed.get_json()["id"]] == "active"
        assert _uses(app, "LAPSE") == 1
