"""checkout(): one service places and pays, for the page and for POST /api/v1/checkout."""

import re

import pytest

from forum.accounts.models import User
from forum.errors import Conflict
from forum.extensions import db
from forum.shop_embed import payments, service
from forum.shop_embed.models import Order, Product
from tests.conftest import login

from .conftest import ADDRESS, counts, order_body


class DecliningProvider(payments.PaymentProvider):
    """A card that is always refused: the provider answers, nothing is charged."""

    name = "declining"
    label = "Declining card"

    def charge(self, order) -> payments.Charge:
        return payments.Charge("declined", "")


@pytest.fixture
def declining(monkeypatch):
    monkeypatch.setitem(payments.PROVIDERS, "declining", DecliningProvider())
    return "declining"


def checkout_body(*lines, provider="sandbox") -> dict:
    return {**order_body(*lines), "provider": provider}


def test_a_declined_payment_leaves_no_order_no_hold_and_the_stock_unchanged(
    app, client, shop, make_product, buyer_headers, declining
):
    widget = make_product(shop, stock=3)
    before = counts(app)
    response = client.post(
        "/api/v1/checkout",
        json=checkout_body((widget, 2), provider=declining),
        headers=buyer_headers,
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "payment_declined"
    after = counts(app)
    assert after == before
    assert after["shop_orders"] == 0 and after["shop_stock_reservations"] == 0
    assert after["stock"][widget] == 3


def test_the_service_raises_on_a_declined_payment_and_a_rollback_leaves_nothing(
    app, shop, make_product, buyer, declining
):
    widget = make_product(shop, stock=3)
    before = counts(app)
    with app.test_request_context("/"):
        with pytest.raises(Conflict) as refused:
            service.checkout(
                db.session.get(User, buyer.id),
                [(widget, 1)],
                address=ADDRESS,
                provider=declining,
            )
        assert refused.value.code == "payment_declined"
        db.session.rollback()
    assert counts(app) == before


def test_the_two_call_path_keeps_its_unpaid_order_when_payment_is_declined(
    app, client, shop, make_product, buyer_headers, declining
):
    widget = make_product(shop, stock=3)
    order = client.post("/api/v1/orders", json=order_body((widget, 1)), headers=buyer_headers).json
    paid = client.post(
        f"/api/v1/orders/{order['id']}/pay", json={"provider": declining}, headers=buyer_headers
    )
    assert paid.status_code == 409 and paid.json["error"]["code"] == "payment_declined"
    again = client.get(f"/api/v1/orders/{order['id']}", headers=buyer_headers).json
    assert again["status"] == "pending"  # as API.md documents: pay again within the window


def test_one_call_checkout_pays_at_once_and_a_replay_creates_nothing(
    app, client, shop, make_product, buyer_headers
):
    widget = make_product(shop, price_cents=1250, stock=5)
    headers = {**buyer_headers, "Idempotency-Key": "checkout-1"}
    first = client.post("/api/v1/checkout", json=checkout_body((widget, 2)), headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "paid"
    assert first.json["total_cents"] == 2 * 1250 + 500
    before = counts(app)
    replay = client.post("/api/v1/checkout", json=checkout_body((widget, 2)), headers=headers)
    assert replay.status_code == 201 and replay.json["id"] == first.json["id"]
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert counts(app) == before


def test_one_call_checkout_without_an_address_is_refused_before_anything_is_written(
    app, client, shop, make_product, buyer_headers
):
    widget = make_product(shop, stock=5)
    before = counts(app)
    body = {**order_body((widget, 1), address=False), "provider": "sandbox"}
    response = client.post("/api/v1/checkout", json=body, headers=buyer_headers)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "address_required"
    assert counts(app) == before


def test_an_unavailable_provider_is_refused_before_anything_is_written(
    app, client, shop, make_product, buyer_headers
):
    widget = make_product(shop, stock=5)
    before = counts(app)
    response = client.post(
        "/api/v1/checkout", json=checkout_body((widget, 1), provider="nope"), headers=buyer_headers
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "unknown_provider"
    assert counts(app) == before


def test_the_page_and_the_api_charge_the_same_total_for_the_same_cart(
    app, client, shop, make_product, make_user, token_for
):
    lamp = make_product(shop, "Lamp", price_cents=1999, stock=10)
    bulb = make_product(shop, "Bulb", price_cents=350, stock=10)
    lines = ((lamp, 1), (bulb, 3))

    quoted = client.post(
        "/api/v1/checkout/quote",
        json={"items": [{"product_id": p, "quantity": q} for p, q in lines]},
        headers=token_for(make_user("quoter")),
    ).json
    assert quoted["subtotal_cents"] == 1999 + 3 * 350
    assert quoted["adjustments"] == [{"kind": "shipping", "label": "Shipping", "amount_cents": 500}]

    page_buyer = make_user("pagebuyer")
    browser = app.test_client()
    login(browser, page_buyer)
    for product_id, quantity in lines:
        browser.post("/shop/cart/add", data={"product_id": product_id, "quantity": quantity})
    page = browser.get("/shop/checkout").get_data(as_text=True)
    shown = re.search(r"data-checkout-total>([^<]+)<", page).group(1)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    placed = browser.post(
        "/shop/checkout", data={**ADDRESS, "provider": "sandbox", "idempotency_key": key}
    )
    assert placed.status_code == 302, placed.get_data(as_text=True)[:2000]

    api = client.post(
        "/api/v1/checkout",
        json=checkout_body(*lines),
        headers=token_for(make_user("apibuyer")),
    )
    assert api.status_code == 201, api.json

    with app.app_context():
        page_order = db.session.scalar(db.select(Order).where(Order.buyer_id == page_buyer.id))
        assert page_order.status == "paid"
        assert page_order.total_cents == api.json["total_cents"] == quoted["total_cents"]
        assert page_order.shipping_cents == api.json["shipping_cents"] == 500
    assert shown == "$35.49"  # 19.99 + 3 × 3.50 + 5.00 shipping, as both orders store it


def test_a_stock_equal_to_what_the_merchant_saw_is_not_written(app, shop, make_product, buyer):
    widget = make_product(shop, stock=5)
    with app.test_request_context("/"):
        service.place_order(db.session.get(User, buyer.id), [(widget, 2)], shipping_address=ADDRESS)
        merchant = db.session.get(User, shop.user.id)
        product = db.session.get(Product, widget)
        # The form showed 5 before the sale; saving it untouched keeps the sale's 3.
        service.update_product(merchant, product, name="Widget 2", stock=5, stock_seen="5")
        db.session.commit()
        assert db.session.get(Product, widget).stock == 3
        service.update_product(merchant, product, stock=7, stock_seen="5")
        db.session.commit()
        assert db.session.get(Product, widget).stock == 7


def test_the_stock_state_is_computed_once_for_every_reader():
    assert service.stock_state(0).state == "sold_out"
    assert service.stock_state(service.LOW_STOCK).label == f"Only {service.LOW_STOCK} left"
    assert service.stock_state(service.LOW_STOCK + 1).css == "ok"
    assert service.stock_state(9, available=False).label == "Unavailable"
