"""Tiers from behaviour: both directions, the rolling window, the grace period, manual grants."""

from datetime import timedelta

import time_machine

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context

from .conftest import tier_of


def _changes(app, user_id):
    from sqlalchemy import select

    from forum.members.models import TierChange

    with app_context(app):
        db.session.remove()
        rows = db.session.scalars(
            select(TierChange).where(TierChange.user_id == user_id).order_by(TierChange.id)
        ).all()
        result = [(r.from_tier, r.to_tier, r.reason) for r in rows]
        db.session.remove()
        return result


def _notifications(app, user_id):
    from sqlalchemy import select

    from forum.notifications.models import Notification

    with app_context(app):
        texts = list(
            db.session.scalars(
                select(Notification.text).where(
                    Notification.user_id == user_id, Notification.kind == "tier_changed"
                )
            )
        )
        db.session.remove()
        return texts


def _evaluate_all(app):
    from forum.members import service

    with app_context(app), app.test_request_context("/"):
        moved = service.evaluate_all()
        db.session.commit()
        return moved


def test_orders_move_a_member_up_and_a_refund_moves_them_down(
    app, shopping, make_product, shop, make_user
):
    product = make_product(shop, price_cents=1000, stock=20)  # small orders: VIP by count
    bea = make_user("bea")
    assert tier_of(app, bea.id) == "registered"
    first = shopping.buy(bea, product)
    assert tier_of(app, bea.id) == "shopper"
    shopping.buy(bea, product)
    assert tier_of(app, bea.id) == "shopper"  # 2 of 3 orders, 20.00 of 500.00
    third = shopping.buy(bea, product)
    assert tier_of(app, bea.id) == "vip"
    assert _notifications(app, bea.id)[-1].startswith("You are now VIP")
    # A refund of one of the three: VIP earned only by it has no grace.
    shopping.act(third, "refund")
    assert tier_of(app, bea.id) == "shopper"
    assert _changes(app, bea.id) == [
        ("registered", "shopper", "order_completed"),
        ("shopper", "vip", "order_completed"),
        ("vip", "shopper", "order_refunded"),
    ]
    shopping.act(first, "refund")
    assert tier_of(app, bea.id) == "shopper"  # one completed order is left


def test_vip_by_spend_in_the_window_then_grace_then_down(
    app, shopping, make_product, shop, make_user
):
    product = make_product(shop, price_cents=60_000, stock=5)
    start = now()
    with time_machine.travel(start, tick=False):
        bea = make_user("bea")
        shopping.buy(bea, product)  # 600.00 >= 500.00 spend
    assert tier_of(app, bea.id) == "vip"
    # 365 days later the order leaves the window; the 30-day grace keeps VIP.
    with time_machine.travel(start + timedelta(days=370), tick=False):
        assert _evaluate_all(app) == 0
        assert tier_of(app, bea.id) == "vip"
        with app_context(app):
            from forum.members import service

            standing = service.standing(bea.id)
            assert standing.in_grace and standing.spend_cents == 0
            db.session.remove()
    with time_machine.travel(start + timedelta(days=396), tick=False):
        assert _evaluate_all(app) == 1
        assert tier_of(app, bea.id) == "shopper"
        assert _evaluate_all(app) == 0  # idempotent: nothing moves twice
    assert _changes(app, bea.id)[-1] == ("vip", "shopper", "periodic")


def test_checkout_uses_the_tier_now_even_before_the_job_ran(
    app, shopping, make_product, shop, make_user
):
    product = make_product(shop, price_cents=60_000, stock=5)
    start = now()
    with time_machine.travel(start, tick=False):
        bea = make_user("bea")
        shopping.buy(bea, product)
    with time_machine.travel(start + timedelta(days=400), tick=False):
        order = shopping.buy(bea, product, complete=False, ship=False)
        assert shopping.order(order)["shipping_cents"] == 500  # no VIP free freight any more


def test_manual_grant_lifts_and_lapses(app, admin, make_user, client, token_for):
    bea = make_user("bea")
    headers = token_for(admin)
    response = client.post(
        "/api/v1/admin/members/bea/tier",
        json={"tier": "vip", "reason": "Anniversary VIP card"},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["tier"] == "vip"
    assert response.json["manual_tier"] == "vip"
    assert response.json["perks"] == {"free_shipping": True, "rebate_bp": 500}
    assert tier_of(app, bea.id) == "vip"
    assert _changes(app, bea.id) == [("registered", "vip", "manual: Anniversary VIP card")]
    # Refusals change nothing: no reason, unknown tier, not an admin, unknown member.
    for body in ({"tier": "vip", "reason": ""}, {"tier": "gold", "reason": "because"}):
        assert (
            client.post("/api/v1/admin/members/bea/tier", json=body, headers=headers).status_code
            == 422
        )
    assert (
        client.post(
            "/api/v1/admin/members/bea/tier",
            json={"tier": "vip", "reason": "self-service"},
            headers=token_for(bea),
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/admin/members/nobody/tier",
            json={"tier": "vip", "reason": "x" * 5},
            headers=headers,
        ).status_code
        == 404
    )
    assert len(_changes(app, bea.id)) == 1
    with time_machine.travel(now() + timedelta(days=366), tick=False):
        assert _evaluate_all(app) == 1
    assert tier_of(app, bea.id) == "registered"


def test_membership_shows_progress_and_what_is_missing(
    app, shopping, make_product, shop, make_user, client, token_for
):
    product = make_product(shop, price_cents=12_000, stock=20)
    bea = make_user("bea")
    headers = token_for(bea)
    body = client.get("/api/v1/me/membership", headers=headers).json
    assert body["tier"] == "registered"
    assert body["next_tier"] == "shopper" and body["missing"] == {"orders": 1}
    shopping.buy(bea, product)
    body = client.get("/api/v1/me/membership", headers=headers).json
    assert body["tier"] == "shopper" and body["completed_orders"] == 1
    assert body["spend_cents"] == 12_000
    assert body["missing"] == {"orders": 2, "spend_cents": 38_000}
    assert body["perks"] == {"free_shipping": False, "rebate_bp": 0}
    assert body["tier_since"] is not None


def test_admin_edits_the_rules_and_later_evaluations_use_them(
    app, admin, make_user, client, token_for, shopping, make_product, shop
):
    headers = token_for(admin)
    assert client.get("/api/v1/admin/tiers", headers=headers).json["vip_min_orders"] == 3
    response = client.put(
        "/api/v1/admin/tiers",
        json={"vip_min_orders": 1, "vip_min_spend_cents": 0, "vip_rebate_bp": 1000},
        headers=headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["vip_min_orders"] == 1 and response.json["vip_rebate_bp"] == 1000
    bad = client.put(
        "/api/v1/admin/tiers",
        json={"vip_min_orders": 0, "vip_min_spend_cents": 0},
        headers=headers,
    )
    assert bad.status_code == 422
    assert (
        client.put(
            "/api/v1/admin/tiers", json={"window_days": 30}, headers=token_for(make_user("eve"))
        ).status_code
        == 403
    )
    bea = make_user("bea")
    shopping.buy(bea, make_product(shop, price_cents=1000))
    assert tier_of(app, bea.id) == "vip"
