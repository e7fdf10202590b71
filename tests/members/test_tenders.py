"""Store credit and points spent at checkout and given back on cancel and refund; points
expire oldest first; earning rules with daily caps; admin goodwill; the wallet API."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS, counts

from .conftest import give_credit, wallet


def test_credit_and_points_spent_then_given_back_on_cancel(
    app, shopping, make_product, shop, make_user, admin, client, token_for
):
    product = make_product(shop, price_cents=3000)
    bea = make_user("bea")  # 50 welcome points
    give_credit(app, admin, bea, 1000)
    headers = token_for(bea)
    response = client.post(
        "/api/v1/orders",
        json={
            "items": [{"product_id": product, "quantity": 1}],
            "shipping_address": ADDRESS,
            "use_credit_cents": 1000,
            "use_points": 50,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.json
    order = response.json
    assert order["credit_used_cents"] == 1000 and order["points_used"] == 50
    assert order["subtotal_cents"] == 3000 and order["shipping_cents"] == 500
    assert order["total_cents"] == 3000 + 500 - 1000 - 50  # 100 points = 1.00
    assert wallet(app, bea.id) | {} == {
        "credit": 0,
        "pending": 0,
        "points": 0,
        "wallet_credit": 0,
        "wallet_points": 0,
    }
    cancel = client.post(f"/api/v1/orders/{order['id']}/cancel", json={}, headers=headers)
    assert cancel.status_code == 200, cancel.json
    balances = wallet(app, bea.id)
    assert (balances["credit"], balances["points"]) == (1000, 50)


def test_spent_credit_returns_on_full_and_partial_refund(
    app, shopping, make_product, shop, make_user, admin
):
    product = make_product(shop, price_cents=10_000)
    bea = make_user("bea")
    give_credit(app, admin, bea, 2000)
    order = shopping.buy(bea, product, use_credit_cents=2000)
    assert shopping.order(order)["total_cents"] == 10_000 + 500 - 2000
    assert wallet(app, bea.id)["credit"] == 0
    shopping.act(order, "refund", amount_cents=4250)  # half of the 85.00 paid in money
    assert wallet(app, bea.id)["credit"] == 1000
    shopping.act(order, "refund")
    assert wallet(app, bea.id)["credit"] == 2000
    shopping_points = wallet(app, bea.id)["points"]
    assert shopping_points == 50  # the order's 100 points were reversed with the refunds


def test_insufficient_credit_and_points_are_refused_and_nothing_written(
    app, make_product, shop, make_user, client, token_for
):
    product = make_product(shop, price_cents=3000)
    bea = make_user("bea")
    headers = token_for(bea)
    before = counts(app)
    for field, code in (
        ("use_credit_cents", "insufficient_credit"),
        ("use_points", "insufficient_points"),
    ):
        response = client.post(
            "/api/v1/checkout",
            json={
                "items": [{"product_id": product, "quantity": 1}],
                "shipping_address": ADDRESS,
                "provider": "sandbox",
                field: 5000,
            },
            headers=headers,
        )
        assert response.status_code == 409, response.json
        assert response.json["error"]["code"] == code
    negative = client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product, "quantity": 1}], "use_credit_cents": -1},
        headers=headers,
    )
    assert negative.status_code == 422
    assert counts(app) == before
    assert wallet(app, bea.id)["points"] == 50


def test_credit_covers_at_most_what_is_left_to_pay(
    app, shopping, make_product, shop, make_user, admin
):
    product = make_product(shop, price_cents=1000)
    bea = make_user("bea")
    give_credit(app, admin, bea, 5000)
    order = shopping.buy(bea, product, use_credit_cents=5000)
    data = shopping.order(order)
    assert data["credit_used_cents"] == 1500 and data["total_cents"] == 0
    assert wallet(app, bea.id)["credit"] == 3500


def _post_points(app, user_id, amount, reason, expires_at):
    from forum.members import service

    with app_context(app):
        service.post(user_id, "points", amount, reason, expires_at=expires_at)
        db.session.commit()


def test_points_expire_oldest_first(app, make_user, shopping, make_product, shop):
    bea = make_user("bea")  # 50 welcome points, expiring in 365 days
    start = now()
    _post_points(app, bea.id, 100, "earn:checkin", start + timedelta(days=10))
    _post_points(app, bea.id, 100, "earn:likes", start + timedelta(days=20))
    # Spending 120 takes the lot expiring first (day 10) and 20 of the next (day 20).
    product = make_product(shop, price_cents=5000)
    shopping.buy(bea, product, complete=False, ship=False, use_points=120)
    from forum.members.models import PointsLot

    with app_context(app):
        remaining = [
            lot.remaining
            for lot in db.session.scalars(
                select(PointsLot).where(PointsLot.user_id == bea.id).order_by(PointsLot.expires_at)
            )
        ]
        db.session.remove()
    assert remaining == [0, 80, 50]
    with time_machine.travel(start + timedelta(days=21), tick=False):
        assert wallet(app, bea.id)["points"] == 50  # read: the day-20 lot is gone already
        with app_context(app):
            from forum.members import service

            assert service.expire_points() == 80
            assert service.expire_points() == 0
            db.session.commit()
        balances = wallet(app, bea.id)
        assert balances["wallet_points"] == 50 == balances["points"]


def test_award_rules_caps_and_reverse(app, make_user):
    from forum.members import service

    bea = make_user("bea")
    with app_context(app):
        assert service.award(bea.id, "review", key="review:1") == 20
        assert service.award(bea.id, "review", key="review:1") == 0  # idempotent
        assert service.award(bea.id, "review", key="review:2") == 20
        assert service.award(bea.id, "review", key="review:3") == 20
        assert service.award(bea.id, "review", key="review:4") == 0  # 60 a day
        assert service.reverse("review:2", rule="review") == 20
        assert service.reverse("review:2", rule="review") == 0
        db.session.commit()
    assert wallet(app, bea.id)["points"] == 50 + 40
    with app_context(app):
        board = service.leaderboard()
        assert board[0][1] == "bea" and board[0][2] == 60
        db.session.remove()


def test_daily_check_in_streak(app, make_user):
    from forum.accounts.models import User
    from forum.members import service

    bea = make_user("bea")
    start = now().replace(hour=12)
    for day, expected in ((0, 1), (0, 0), (1, 2), (3, 1)):
        with time_machine.travel(start + timedelta(days=day), tick=False), app_context(app):
            assert service.check_in(db.session.get(User, bea.id)) == expected
            db.session.commit()


def test_admin_goodwill_credit_and_points_api(app, admin, make_user, client, token_for):
    bea = make_user("bea")
    headers = token_for(admin)
    credit = client.post(
        "/api/v1/admin/members/bea/credit",
        json={"amount_cents": 700, "reason": "Late delivery"},
        headers=headers,
    )
    assert credit.status_code == 201, credit.json
    assert credit.json["account"] == "credit" and credit.json["amount"] == 700
    points = client.post(
        "/api/v1/admin/members/bea/points",
        json={"amount": 30, "reason": "Meetup"},
        headers=headers,
    )
    assert points.status_code == 201
    too_much = client.post(
        "/api/v1/admin/members/bea/credit",
        json={"amount_cents": -800, "reason": "oops"},
        headers=headers,
    )
    assert too_much.status_code == 409
    assert (
        client.post(
            "/api/v1/admin/members/bea/credit",
            json={"amount_cents": 5, "reason": "me"},
            headers=token_for(bea),
        ).status_code
        == 403
    )
    body = client.get("/api/v1/me/wallet?limit=2", headers=token_for(bea)).json
    assert body["credit_cents"] == 700 and body["points"] == 80
    assert [e["reason"] for e in body["entries"]["items"]] == [
        "admin: Meetup",
        "admin: Late delivery",
    ]
    rest = client.get(
        f"/api/v1/me/wallet?limit=2&cursor={body['entries']['next_cursor']}",
        headers=token_for(bea),
    ).json
    assert [e["reason"] for e in rest["entries"]["items"]] == ["welcome"]
    assert rest["entries"]["next_cursor"] is None
