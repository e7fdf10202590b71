"""VIP perks enforced at checkout: free freight (and its exclusion), the rebate with its lock and
reversal, audiences refused on every path, and a row per perk granted."""

from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS, counts

from .conftest import tier_of, wallet


def _grant_vip(app, admin, user):
    from forum.accounts.models import User
    from forum.members import service

    with app_context(app), app.test_request_context("/"):
        service.grant(
            db.session.get(User, admin.id), db.session.get(User, user.id), "vip", "test VIP"
        )
        db.session.commit()


def _perk_rows(app):
    from forum.members.models import PerkGrant

    with app_context(app):
        db.session.remove()
        rows = [
            (r.perk, r.amount_cents, r.funded_by)
            for r in db.session.scalars(select(PerkGrant).order_by(PerkGrant.id))
        ]
        db.session.remove()
        return rows


def test_vip_free_freight_and_the_excluded_products(
    app, shopping, make_product, shop, make_user, admin, client, token_for
):
    shoes = make_product(shop, "Shoes", price_cents=8000)
    stickers = make_product(shop, "Stickers", price_cents=200)
    with app_context(app), app.test_request_context("/"):
        from forum.accounts.models import User
        from forum.shop_embed import service
        from forum.shop_embed.models import Product

        service.update_product(
            db.session.get(User, shop.user.id),
            db.session.get(Product, stickers),
            free_shipping_excluded=True,
        )
        db.session.commit()
    bea = make_user("bea")
    plain = shopping.buy(bea, shoes, complete=False, ship=False)
    assert shopping.order(plain)["shipping_cents"] == 500  # a shopper pays freight
    _grant_vip(app, admin, bea)
    free = shopping.buy(bea, shoes, complete=False, ship=False)
    order = shopping.order(free)
    assert order["shipping_cents"] == 0 and order["total_cents"] == 8000
    assert {
        "kind": "shipping",
        "label": "VIP free shipping",
        "amount_cents": -500,
        "info": {"free_shipping_cents": 500},
    } in order["adjustments"]
    # The API's quote and order say the same.
    headers = token_for(bea)
    quote = client.post(
        "/api/v1/checkout/quote",
        json={"items": [{"product_id": shoes, "quantity": 1}]},
        headers=headers,
    ).json
    assert quote["shipping_cents"] == 0 and quote["rebate_cents"] == 400
    # An excluded product in the order: the fee is charged, and the quote says why.
    mixed = client.post(
        "/api/v1/checkout",
        json={
            "items": [
                {"product_id": shoes, "quantity": 1},
                {"product_id": stickers, "quantity": 1},
            ],
            "shipping_address": ADDRESS,
            "provider": "sandbox",
        },
        headers=headers,
    )
    assert mixed.status_code == 201, mixed.json
    assert mixed.json["shipping_cents"] == 500 and mixed.json["total_cents"] == 8700
    assert any("does not cover Stickers" in a["label"] for a in mixed.json["adjustments"])
    assert _perk_rows(app) == [("free_shipping", 500, "site")]


def test_rebate_credited_on_completion_available_after_the_lock(
    app, shopping, make_product, shop, make_user, admin, client, token_for
):
    product = make_product(shop, price_cents=10_000)
    bea = make_user("bea")
    _grant_vip(app, admin, bea)
    start = now()
    with time_machine.travel(start, tick=False):
        order = shopping.buy(bea, product, complete=False)
        assert shopping.order(order)["rebate_cents"] == 500  # 5% of 100.00, not of shipping
        api = client.get(f"/api/v1/orders/{order}", headers=token_for(bea)).json
        assert api["rebate_cents"] == 500 and api["shipping_cents"] == 0
        assert wallet(app, bea.id)["pending"] == 0  # nothing before completion
        shopping.act(order, "complete")
        balances = wallet(app, bea.id)
        assert (balances["credit"], balances["pending"]) == (0, 500)
        page = client.get("/api/v1/me/wallet", headers=token_for(bea)).json
        assert page["pending_credit_cents"] == 500 and page["credit_cents"] == 0
    with time_machine.travel(start + timedelta(days=13), tick=False):
        assert wallet(app, bea.id)["credit"] == 0
    with time_machine.travel(start + timedelta(days=14, minutes=1), tick=False):
        # Available at once by reading, before the job moved it ...
        balances = wallet(app, bea.id)
        assert (balances["credit"], balances["pending"], balances["wallet_credit"]) == (500, 0, 0)
        with app_context(app):
            from forum.members import service

            assert service.release_due_rebates() == 1
            assert service.release_due_rebates() == 0  # ... and moved once
            db.session.commit()
        balances = wallet(app, bea.id)
        assert (balances["credit"], balances["wallet_credit"]) == (500, 500)
    assert _perk_rows(app) == [("free_shipping", 500, "site"), ("rebate", 500, "site")]


def test_rebate_lock_zero_makes_it_available_at_completion(
    app, shopping, make_product, shop, make_user, admin
):
    app.config["REBATE_LOCK_DAYS"] = 0
    product = make_product(shop, price_cents=10_000)
    bea = make_user("bea")
    _grant_vip(app, admin, bea)
    shopping.buy(bea, product)
    assert wallet(app, bea.id)["wallet_credit"] == 500


def test_rebate_reversed_in_proportion_then_fully(
    app, shopping, make_product, shop, make_user, admin
):
    product = make_product(shop, price_cents=10_000)
    bea = make_user("bea")
    _grant_vip(app, admin, bea)
    order = shopping.buy(bea, product)  # total 100.00, rebate 5.00 pending
    shopping.act(order, "refund", amount_cents=4000)  # 40% back
    from forum.members.models import Rebate

    with app_context(app):
        rebate = db.session.scalar(select(Rebate).where(Rebate.order_id == order))
        assert (rebate.amount_cents, rebate.reversed_cents) == (500, 200)
        db.session.remove()
    assert wallet(app, bea.id)["pending"] == 300
    assert shopping.order(order)["status"] == "completed"
    shopping.act(order, "refund")  # the rest
    assert shopping.order(order)["status"] == "refunded"
    assert wallet(app, bea.id)["pending"] == 0
    rows = _perk_rows(app)
    assert sum(amount for perk, amount, _ in rows if perk == "rebate") == 0


def test_rebate_already_released_is_taken_back_from_credit(
    app, shopping, make_product, shop, make_user, admin
):
    app.config["REBATE_LOCK_DAYS"] = 0
    product = make_product(shop, price_cents=10_000)
    bea = make_user("bea")
    _grant_vip(app, admin, bea)
    order = shopping.buy(bea, product)
    assert wallet(app, bea.id)["credit"] == 500
    shopping.act(order, "refund", amount_cents=5000)
    assert wallet(app, bea.id)["credit"] == 250
    shopping.act(order, "refund")
    assert wallet(app, bea.id)["credit"] == 0


def test_partial_refund_refusals_change_nothing(app, shopping, make_product, shop, make_user):
    product = make_product(shop, price_cents=10_000)
    bea = make_user("bea")
    order = shopping.buy(bea, product)
    before = counts(app)
    from forum.errors import ServiceError

    for amount in (0, -5, 10_501, True):
        try:
            shopping.act(order, "refund", amount_cents=amount)
        except ServiceError as err:
            assert err.code == "invalid"
        else:  # pragma: no cover
            raise AssertionError(amount)
    with time_machine.travel(now() + timedelta(days=31), tick=False):
        try:
            shopping.act(order, "refund", amount_cents=100)
        except ServiceError as err:
            assert err.code == "return_window_closed"
    assert counts(app) == before


# --- audiences ------------------------------------------------------------------------


def _vip_only(app, shop, *product_ids):
    from forum.accounts.models import User
    from forum.shop_embed import service
    from forum.shop_embed.models import Product

    with app_context(app), app.test_request_context("/"):
        for pid in product_ids:
            service.update_product(
                db.session.get(User, shop.user.id), db.session.get(Product, pid), audience="vip"
            )
        db.session.commit()


def _order_count(app):
    from forum.shop_embed.models import Order

    with app_context(app):
        n = db.session.scalar(select(func.count()).select_from(Order))
        db.session.remove()
        return n


def test_vip_only_product_refused_on_the_page_and_the_api(
    app, make_product, shop, make_user, admin, client, token_for
):
    from tests.conftest import login

    product = make_product(shop, "Collector's edition", price_cents=5000)
    _vip_only(app, shop, product)
    bea = make_user("bea")
    headers = token_for(bea)
    body = {
        "items": [{"product_id": product, "quantity": 1}],
        "shipping_address": ADDRESS,
        "provider": "sandbox",
    }
    before = counts(app)
    for path in ("/api/v1/orders", "/api/v1/checkout"):
        sent = (
            body
            if path.endswith("checkout")
            else {k: v for k, v in body.items() if k != "provider"}
        )
        response = client.post(path, json=sent, headers=headers)
        assert response.status_code == 403, response.json
        assert response.json["error"]["code"] == "tier_required"
        assert "for VIP members" in response.json["error"]["message"]
    assert counts(app) == before
    page = app.test_client()
    login(page, bea)
    html = page.get(f"/shop/p/{product}").get_data(as_text=True)
    assert "For VIP members" in html and "Become VIP" in html
    checkout = page.get(f"/shop/checkout?product={product}&quantity=1", follow_redirects=True)
    assert "for VIP members" in checkout.get_data(as_text=True)
    assert counts(app) == before
    _grant_vip(app, admin, bea)
    assert client.post("/api/v1/checkout", json=body, headers=headers).status_code == 201


def test_vip_only_snap_and_group_buy_refused_to_others(
    app, make_product, shop, make_user, admin, client, token_for
):
    later = lambda **d: (now() + timedelta(**d)).isoformat()  # noqa: E731
    product = make_product(shop, "Drone", price_cents=10_000, stock=20)
    snap = client.post(
        "/api/v1/snaps",
        json={
            "product_id": product,
            "price_cents": 7000,
            "stock": 5,
            "per_user_limit": 2,
            "starts_at": later(seconds=-1),
            "ends_at": later(hours=2),
            "audience": "vip",
        },
        headers=shop.headers,
    )
    assert snap.status_code == 201, snap.json
    assert snap.json["audience"] == "vip"
    group = client.post(
        "/api/v1/group-buys",
        json={
            "product_id": product,
            "group_price_cents": 8000,
            "team_size": 2,
            "team_window_minutes": 60,
            "ends_at": later(days=2),
            "audience": "shopper",
        },
        headers=shop.headers,
    )
    assert group.status_code == 201, group.json
    bad = client.post(
        "/api/v1/snaps",
        json={
            "product_id": product,
            "price_cents": 7000,
            "stock": 5,
            "per_user_limit": 2,
            "starts_at": later(),
            "ends_at": later(hours=1),
            "audience": "gold",
        },
        headers=shop.headers,
    )
    assert bad.status_code == 422 and "audience" in bad.json["error"]["fields"]
    bea = make_user("bea")
    headers = token_for(bea)
    before = counts(app)
    refused = client.post(
        f"/api/v1/snaps/{snap.json['id']}/buy", json={"quantity": 1}, headers=headers
    )
    assert refused.status_code == 403 and refused.json["error"]["code"] == "tier_required"
    team = client.post(f"/api/v1/group-buys/{group.json['id']}/teams", headers=headers)
    assert team.status_code == 403 and team.json["error"]["code"] == "tier_required"
    assert counts(app) == before
    _grant_vip(app, admin, bea)
    assert (
        client.post(
            f"/api/v1/snaps/{snap.json['id']}/buy", json={"quantity": 1}, headers=headers
        ).status_code
        == 201
    )
    assert (
        client.post(f"/api/v1/group-buys/{group.json['id']}/teams", headers=headers).status_code
        == 201
    )
    assert tier_of(app, bea.id) == "vip"
