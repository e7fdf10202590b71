"""Member pages: who may see them, and the admin forms doing what they say."""

from tests.conftest import login

from .conftest import tier_of, wallet


def test_membership_and_wallet_pages(app, shopping, make_product, shop, make_user):
    bea = make_user("bea")
    order = shopping.buy(bea, make_product(shop, price_cents=2000))
    client = app.test_client()
    assert client.get("/membership").status_code == 302  # log in first
    login(client, bea)
    html = client.get("/membership").get_data(as_text=True)
    assert "Shopper" in html and "2 more orders" in html and f"order #{order}" in html
    assert "Earned by a completed order" in html
    assert client.get("/wallet").status_code == 200
    assert client.get("/leaderboard").status_code == 200
    response = client.post("/membership/check-in", data={})
    assert response.status_code == 303
    assert wallet(app, bea.id)["points"] == 50 + 20 + 1


def test_admin_pages_are_for_admins_only(app, make_user, admin):
    eve = make_user("eve")
    client = app.test_client()
    login(client, eve)
    for path in ("/admin/members/tiers", "/admin/members/grants", "/admin/members/report"):
        assert client.get(path).status_code == 403
    assert client.post("/admin/members/grants", data={}).status_code == 403
    assert client.post("/admin/members/points-rules", data={}).status_code == 403
    staff = app.test_client()
    login(staff, admin)
    for path in ("/admin/members/tiers", "/admin/members/grants", "/admin/members/report"):
        assert staff.get(path).status_code == 200


def test_admin_saves_rules_grants_and_points_rules(app, admin, make_user):
    from forum.extensions import db
    from forum.members import service
    from tests.conftest import app_context

    bea = make_user("bea")
    client = app.test_client()
    login(client, admin)
    rules = {
        "shopper_min_orders": "1",
        "vip_min_orders": "2",
        "vip_min_spend_cents": "0",
        "window_days": "180",
        "vip_grace_days": "10",
        "manual_grant_days": "30",
        "vip_rebate_bp": "300",
        "vip_free_shipping": "y",
        "free_shipping_funded_by": "merchant",
        "rebate_funded_by": "site",
        "points_per_unit": "200",
        "points_expire_days": "90",
    }
    assert client.post("/admin/members/tiers", data=rules).status_code == 303
    bad = client.post("/admin/members/tiers", data={**rules, "vip_min_orders": "0"})
    assert bad.status_code == 422 and "VIP needs" in bad.get_data(as_text=True)
    with app_context(app):
        saved = service.rules_json()
        assert saved["vip_min_orders"] == 2 and saved["free_shipping_funded_by"] == "merchant"
        db.session.remove()
    grant = client.post(
        "/admin/members/grants",
        data={"grant-username": "bea", "grant-tier": "vip", "grant-reason": "VIP card"},
    )
    assert grant.status_code == 303 and tier_of(app, bea.id) == "vip"
    missing = client.post(
        "/admin/members/grants",
        data={"grant-username": "nobody", "grant-tier": "vip", "grant-reason": "VIP card"},
    )
    assert missing.status_code == 422
    adjust = client.post(
        "/admin/members/grants",
        data={
            "adjust-username": "bea",
            "adjust-account": "credit",
            "adjust-amount": "250",
            "adjust-reason": "Goodwill",
        },
    )
    assert adjust.status_code == 303 and wallet(app, bea.id)["credit"] == 250
    rule = client.post(
        "/admin/members/points-rules", data={"rule": "review", "points": "35", "daily_cap": ""}
    )
    assert rule.status_code == 303
    with app_context(app):
        row = service.points_rules()["review"]
        assert (row.points, row.daily_cap, row.active) == (35, None, False)
        db.session.remove()
