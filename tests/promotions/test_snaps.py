"""Snap-ups through the API: creating, reading, buying, and every refusal writing nothing."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from forum.clock import now
from forum.extensions import db
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS, conservation

from .conftest import later, promo_counts, snap_conservation


def buy(client, snap_id, headers, quantity=1, **extra):
    return client.post(
        f"/api/v1/snaps/{snap_id}/buy",
        json={"quantity": quantity, "shipping_address": ADDRESS},
        headers=headers,
        **extra,
    )


def test_merchant_creates_a_snap_and_anyone_reads_it(client, shop, product):
    starts, ends = later(hours=1), later(hours=3)
    response = client.post(
        "/api/v1/snaps",
        json={
            "product_id": product,
            "price_cents": 4900,
            "stock": 20,
            "per_user_limit": 1,
            "starts_at": starts,
            "ends_at": ends,
        },
        headers=shop.headers,
    )
    assert response.status_code == 201, response.json
    snap = client.get(f"/api/v1/snaps/{response.json['id']}").json
    assert snap["stock_left"] == 20 and snap["state"] == "upcoming"
    assert snap["starts_at"] == starts.replace("+00:00", "+00:00")[:19] + "+00:00"
    assert snap["ends_at"][:19] == ends[:19]
    assert snap["price_cents"] == 4900 and snap["per_user_limit"] == 1
    assert "server_now" in snap and "my_bought" not in snap


def test_bad_snaps_are_refused_with_fields_and_nothing_written(
    app, client, shop, product, make_shop, make_product
):
    other = make_product(make_shop("rival"), "Rival", price_cents=1000)
    before = promo_counts(app)
    cases = [
        ({"price_cents": 8900}, "price_cents"),
        ({"stock": 0}, "stock"),
        ({"stock": 51}, "stock"),  # more than the product has
        ({"per_user_limit": 0}, "per_user_limit"),
        ({"per_user_limit": 6}, "per_user_limit"),  # above the stock
        ({"ends_at": later(hours=-1), "starts_at": later(hours=-2)}, "ends_at"),
        ({"ends_at": later(minutes=30), "starts_at": later(hours=1)}, "ends_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"product_id": other}, "product_id"),
    ]
    for change, field in cases:
        body = {
            "product_id": product,
            "price_cents": 4900,
            "stock": 5,
            "per_user_limit": 2,
            "starts_at": later(minutes=1),
            "ends_at": later(hours=1),
            **change,
        }
        response = client.post("/api/v1/snaps", json=body, headers=shop.headers)
        assert response.status_code == 422, (change, response.json)
        assert field in response.json["error"]["fields"], (change, response.json)
    assert client.post("/api/v1/snaps", json={}, headers=shop.headers).status_code == 422
    assert promo_counts(app) == before


def test_buying_places_a_pending_order_at_the_snap_price_with_a_short_window(
    app, client, product, make_snap, buyer, buyer_headers
):
    snap = make_snap(product, stock=5, per_user_limit=2)
    response = buy(client, snap["id"], buyer_headers, quantity=2)
    assert response.status_code == 201, response.json
    order = response.json
    assert (order["kind"], order["status"]) == ("snap", "pending")
    assert order["items"][0]["unit_price_cents"] == 4900 and order["subtotal_cents"] == 9800
    with app_context(app):
        placed = db.session.get(Order, order["id"])
        window = placed.expires_at - placed.created_at
        assert timedelta(minutes=9) < window <= timedelta(minutes=10)
    read = client.get(f"/api/v1/snaps/{snap['id']}", headers=buyer_headers).json
    assert read["stock_left"] == 3 and read["my_bought"] == 2 and read["state"] == "live"
    assert snap_conservation(app, snap["id"]) == {
        "initial": 5,
        "left": 3,
        "sold": 0,
        "pending": 2,
    }
    # Paying it works as for any order.
    paid = client.post(
        f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    assert paid.json["status"] == "paid"
    assert snap_conservation(app, snap["id"])["sold"] == 2


def test_per_user_limit_and_sold_out_refuse_and_write_nothing(
    app, client, product, make_snap, members
):
    snap = make_snap(product, stock=3, per_user_limit=2)
    (a, a_h), (b, b_h), (c, c_h) = members(3)
    assert buy(client, snap["id"], a_h, 2).status_code == 201
    before = promo_counts(app)
    over = buy(client, snap["id"], a_h, 1)
    assert over.status_code == 409 and over.json["error"]["code"] == "limit_reached"
    too_many = buy(client, snap["id"], b_h, 3)
    assert too_many.status_code == 409 and too_many.json["error"]["code"] == "limit_reached"
    more_than_left = buy(client, snap["id"], b_h, 2)
    assert more_than_left.status_code == 409
    assert more_than_left.json["error"]["code"] == "sold_out"
    assert promo_counts(app) == before
    assert buy(client, snap["id"], b_h, 1).status_code == 201
    before = promo_counts(app)
    gone = buy(client, snap["id"], c_h, 1)
    assert gone.status_code == 409 and gone.json["error"]["code"] == "sold_out"
    assert client.get(f"/api/v1/snaps/{snap['id']}").json["state"] == "sold_out"
    assert promo_counts(app) == before
    snap_conservation(app, snap["id"])


def test_not_started_and_ended_refuse(app, client, shop, product, make_snap, buyer_headers):
    upcoming = make_snap(product, starts_at=later(hours=1), ends_at=later(hours=2))
    before = promo_counts(app)
    early = buy(client, upcoming["id"], buyer_headers)
    assert early.status_code == 409 and early.json["error"]["code"] == "not_started"
    with time_machine.travel(now() + timedelta(hours=2, seconds=1), tick=False):
        late = buy(client, upcoming["id"], buyer_headers)
        assert late.status_code == 409 and late.json["error"]["code"] == "ended"
        assert client.get(f"/api/v1/snaps/{upcoming['id']}").json["state"] == "ended"
    assert promo_counts(app) == before
    with time_machine.travel(now() + timedelta(hours=1, seconds=1), tick=False):
        assert client.get(f"/api/v1/snaps/{upcoming['id']}").json["state"] == "live"
        assert buy(client, upcoming["id"], buyer_headers).status_code == 201

    live = make_snap(product)
    assert client.post(f"/api/v1/snaps/{live['id']}/end", headers=buyer_headers).status_code == 403
    ended = client.post(f"/api/v1/snaps/{live['id']}/end", headers=shop.headers)
    assert ended.status_code == 200 and ended.json["state"] == "ended"
    before = promo_counts(app)
    refused = buy(client, live["id"], buyer_headers)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "ended"
    assert promo_counts(app) == before


def test_bad_input_is_422_and_unknown_snaps_404(app, client, product, make_snap, buyer_headers):
    snap = make_snap(product)
    before = promo_counts(app)
    for body in ({"quantity": 0}, {"quantity": "1"}, {"quantity": 100}, {"qty": 1}):
        response = client.post(f"/api/v1/snaps/{snap['id']}/buy", json=body, headers=buyer_headers)
        assert response.status_code == 422, body
    assert buy(client, 999999, buyer_headers).status_code == 404
    assert client.get("/api/v1/snaps/999999").status_code == 404
    assert buy(client, snap["id"], {}).status_code == 401
    bad_key = buy(client, snap["id"], {**buyer_headers, "Idempotency-Key": "é" * 3})
    assert bad_key.status_code == 422
    assert promo_counts(app) == before


def test_idempotent_buy_returns_the_first_order(app, client, product, make_snap, buyer_headers):
    snap = make_snap(product, per_user_limit=2)
    other = make_snap(product)
    headers = {**buyer_headers, "Idempotency-Key": "snap-click-1"}
    first = buy(client, snap["id"], headers)
    before = promo_counts(app)
    again = buy(client, snap["id"], headers)
    assert again.status_code == 201 and again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert promo_counts(app) == before
    reused = buy(client, other["id"], headers)
    assert reused.status_code == 422 and reused.json["error"]["code"] == "idempotency_key_reused"
    assert promo_counts(app) == before


def test_cancelling_or_refunding_gives_units_back(
    app, client, shop, product, make_snap, buyer_headers
):
    snap = make_snap(product, stock=2, per_user_limit=2)
    first = buy(client, snap["id"], buyer_headers, 2).json["id"]
    assert buy(client, snap["id"], buyer_headers).json["error"]["code"] == "limit_reached"
    client.post(f"/api/v1/orders/{first}/cancel", json={}, headers=buyer_headers)
    read = client.get(f"/api/v1/snaps/{snap['id']}", headers=buyer_headers).json
    assert (read["stock_left"], read["my_bought"]) == (2, 0)
    second = buy(client, snap["id"], buyer_headers, 2).json["id"]
    client.post(f"/api/v1/orders/{second}/pay", json={"provider": "sandbox"}, headers=buyer_headers)
    assert snap_conservation(app, snap["id"]) == {"initial": 2, "left": 0, "sold": 2, "pending": 0}
    refunded = client.post(f"/api/v1/orders/{second}/refund", json={}, headers=shop.headers)
    assert refunded.json["status"] == "refunded"
    assert client.get(f"/api/v1/snaps/{snap['id']}").json["stock_left"] == 2
    assert snap_conservation(app, snap["id"])["left"] == 2
    assert conservation(app, product, 50)["remaining"] == 50


def test_product_out_of_stock_reads_as_sold_out_for_buyers(
    app, client, shop, make_product, make_snap, members
):
    scarce = make_product(shop, "Scarce", price_cents=2000, stock=2)
    snap = make_snap(scarce, price_cents=1000, stock=2, per_user_limit=2)
    (a, a_h), (b, b_h) = members(2)
    # The shop sells the units elsewhere first.
    order = client.post(
        "/api/v1/orders", json={"items": [{"product_id": scarce, "quantity": 2}]}, headers=a_h
    )
    assert order.status_code == 201
    before = promo_counts(app)
    refused = buy(client, snap["id"], b_h)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "sold_out"
    assert promo_counts(app) == before
    with app_context(app):
        assert db.session.scalar(select(Order.kind).where(Order.buyer_id == b.id)) is None


def test_paying_a_snap_order_offline_never_holds_its_units_past_the_snap_window(
    app, client, product, make_snap, members
):
    snap = make_snap(product, stock=2, per_user_limit=2)
    (a, a_h), (b, b_h) = members(2)
    order = buy(client, snap["id"], a_h, quantity=2).json
    chosen = client.post(
        f"/api/v1/orders/{order['id']}/pay", json={"provider": "offline"}, headers=a_h
    )
    assert chosen.status_code == 200, chosen.json
    assert chosen.json["status"] == "pending"
    assert chosen.json["expires_at"] == order["expires_at"]  # not 72 hours
    with time_machine.travel(now() + timedelta(minutes=11), tick=False):
        assert client.get(f"/api/v1/snaps/{snap['id']}").json["stock_left"] == 2
        bought = buy(client, snap["id"], b_h, quantity=2)
        assert bought.status_code == 201, bought.json
    conservation(app, product, 50)
