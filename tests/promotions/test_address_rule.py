"""Physical goods need somewhere to go: no order is paid or shipped without an address.

The rule lives in the shop's order service, so snap-ups, group-buys, the order page
and the API all meet it; the buyer adds the address with
PUT /api/v1/orders/{id}/shipping-address and pays after.
"""

from sqlalchemy import update

from forum.extensions import db
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS

from .conftest import promo_counts


def pay(client, order_id, headers, provider="sandbox"):
    return client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": provider}, headers=headers
    )


def add_address(client, order_id, headers):
    return client.put(
        f"/api/v1/orders/{order_id}/shipping-address",
        json={"shipping_address": ADDRESS},
        headers=headers,
    )


def test_a_group_buy_order_without_an_address_is_paid_only_after_the_buyer_adds_one(
    app, client, product, make_group_buy, members
):
    group_buy = make_group_buy(product, team_size=2)
    (a, a_h), (b, b_h) = members(2)
    team_id = client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=a_h).json[
        "team_id"
    ]
    joined = client.post(f"/api/v1/teams/{team_id}/join", headers=b_h)
    assert joined.json["status"] == "succeeded", joined.json
    order_id = client.get(f"/api/v1/teams/{team_id}", headers=a_h).json["my_order_id"]
    before = promo_counts(app)
    for provider in ("sandbox", "offline"):
        refused = pay(client, order_id, a_h, provider)
        assert refused.status_code == 409, refused.json
        assert refused.json["error"]["code"] == "address_required"
        assert "shipping_address" in refused.json["error"]["fields"]
    assert promo_counts(app) == before
    assert add_address(client, order_id, a_h).status_code == 200
    paid = pay(client, order_id, a_h)
    assert paid.status_code == 200 and paid.json["status"] == "paid", paid.json


def test_a_held_team_order_without_an_address_cannot_be_paid_in_advance(
    app, client, product, make_group_buy, members
):
    group_buy = make_group_buy(product, team_size=3)
    ((a, a_h),) = members(1)
    team_id = client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=a_h).json[
        "team_id"
    ]
    order_id = client.get(f"/api/v1/teams/{team_id}", headers=a_h).json["my_order_id"]
    before = promo_counts(app)
    refused = pay(client, order_id, a_h)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "address_required"
    assert promo_counts(app) == before


def test_a_snap_order_without_an_address_cannot_be_paid_nor_marked_paid(
    app, client, shop, product, make_snap, buyer_headers
):
    snap = make_snap(product, stock=3, per_user_limit=1)
    bought = client.post(
        f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 1}, headers=buyer_headers
    )
    assert bought.status_code == 201, bought.json
    order_id = bought.json["id"]
    before = promo_counts(app)
    assert pay(client, order_id, buyer_headers).json["error"]["code"] == "address_required"
    marked = client.post(f"/api/v1/orders/{order_id}/mark-paid", headers=shop.headers)
    assert marked.status_code == 409 and marked.json["error"]["code"] == "address_required"
    assert promo_counts(app) == before


def test_the_merchant_cannot_ship_an_order_that_has_no_address(
    app, client, shop, product, make_snap, buyer_headers
):
    snap = make_snap(product, stock=3, per_user_limit=1)
    order_id = client.post(
        f"/api/v1/snaps/{snap['id']}/buy",
        json={"quantity": 1, "shipping_address": ADDRESS},
        headers=buyer_headers,
    ).json["id"]
    assert pay(client, order_id, buyer_headers).json["status"] == "paid"
    with app_context(app):  # a paid order from before the rule, with no address
        db.session.execute(update(Order).where(Order.id == order_id).values(shipping_address={}))
        db.session.commit()
    before = promo_counts(app)
    shipped = client.post(
        f"/api/v1/orders/{order_id}/ship", json={"tracking": "T-1"}, headers=shop.headers
    )
    assert shipped.status_code == 409 and shipped.json["error"]["code"] == "address_required"
    assert promo_counts(app) == before
    assert add_address(client, order_id, buyer_headers).status_code == 200
    shipped = client.post(
        f"/api/v1/orders/{order_id}/ship", json={"tracking": "T-1"}, headers=shop.headers
    )
    assert shipped.status_code == 200 and shipped.json["status"] == "shipped"


def test_the_order_page_asks_for_the_address_before_it_offers_to_pay(
    app, client, product, make_snap, buyer, buyer_headers
):
    from tests.conftest import login

    snap = make_snap(product, stock=3, per_user_limit=1)
    order_id = client.post(
        f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 1}, headers=buyer_headers
    ).json["id"]
    page_client = app.test_client()
    login(page_client, buyer)
    page = page_client.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert "Add a shipping address" in page and f"/shop/orders/{order_id}/pay" not in page
    assert add_address(client, order_id, buyer_headers).status_code == 200
    page = page_client.get(f"/shop/orders/{order_id}").get_data(as_text=True)
    assert f"/shop/orders/{order_id}/pay" in page
