"""The attribution API: merchant settings, earnings, payouts; every refusal writes nothing."""

from datetime import timedelta

import pytest

from forum.attribution.models import Commission, MerchantSettings
from forum.extensions import db
from forum.members import service as members
from tests.attribution.conftest import START, click, facts, set_rates, tracked_href
from tests.conftest import login


def test_patch_merchant_settings(client, make_user, token_for):
    merchant = make_user("shopkeeper", role="merchant")
    headers = token_for(merchant)
    response = client.patch(
        "/api/v1/merchant",
        json={
            "cps_rate_bp": 750,
            "cpa_cents": {"signup": 100, "event_signup": 200, "team_join": 300},
        },
        headers=headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["merchant_id"] == merchant.id and body["cps_rate_bp"] == 750
    assert body["cpa_cents"] == {
        "signup": 100,
        "event_signup": 200,
        "team_join": 300,
        "first_purchase": 0,
    }
    assert (
        body["model"] == "last"
        and body["currency"] == "USD"
        and body["updated_at"].endswith("+00:00")
    )
    # A partial PATCH keeps the rest.
    body = client.patch(
        "/api/v1/merchant", json={"model": "linear", "cpa_cents": {"team_join": 0}}, headers=headers
    ).get_json()
    assert (
        body["cps_rate_bp"],
        body["model"],
        body["cpa_cents"]["team_join"],
        body["cpa_cents"]["signup"],
    ) == (750, "linear", 0, 100)
    assert client.get("/api/v1/merchant", headers=headers).get_json() == body


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"cps_rate_bp": 10_001}, "cps_rate_bp"),
        ({"cps_rate_bp": -1}, "cps_rate_bp"),
        ({"cps_rate_bp": "500"}, "cps_rate_bp"),
        ({"cps_rate_bp": 5.5}, "cps_rate_bp"),
        ({"cpa_cents": {"signup": -1}}, "cpa_cents.signup"),
        ({"cpa_cents": {"bribe": 1}}, "cpa_cents.bribe"),
        ({"cpa_cents": [1, 2]}, "cpa_cents"),
        ({"model": "best"}, "model"),
        ({"currency": "usd"}, "currency"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_settings_get_422_and_change_nothing(app, client, make_user, token_for, payload, field):
    merchant = make_user("shopkeeper", role="merchant")
    headers = token_for(merchant)
    client.patch("/api/v1/merchant", json={"cps_rate_bp": 500}, headers=headers)
    response = client.patch("/api/v1/merchant", json=payload, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.get(MerchantSettings, merchant.id).cps_rate_bp == 500


def test_merchant_settings_need_the_merchant_role(app, client, make_user, token_for):
    assert client.patch("/api/v1/merchant", json={"cps_rate_bp": 1}).status_code == 401
    for role in ("member", "moderator", "admin"):
        user = make_user(f"a{role}", role=role)
        response = client.patch(
            "/api/v1/merchant", json={"cps_rate_bp": 1}, headers=token_for(user)
        )
        assert response.status_code == 403, role
    assert (
        client.patch(
            "/api/v1/merchant",
            data="not json",
            content_type="application/json",
            headers=token_for(make_user("shop2", role="merchant")),
        ).status_code
        == 422
    )
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(MerchantSettings)) == 0


def test_settings_page_for_merchants(app, make_user):
    merchant = make_user("shopkeeper", role="merchant")
    browser = app.test_client()
    login(browser, merchant)
    assert browser.get("/merchant/attribution/settings").status_code == 200
    response = browser.post(
        "/merchant/attribution/settings",
        data={
            "cps_rate_percent": "7.5",
            "cpa_signup": "1.25",
            "cpa_event_signup": "0",
            "cpa_team_join": "2",
            "cpa_first_purchase": "0.99",
            "model": "first",
            "currency": "EUR",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(MerchantSettings, merchant.id)
        assert (
            saved.cps_rate_bp,
            saved.cpa_signup_cents,
            saved.cpa_team_join_cents,
            saved.cpa_first_purchase_cents,
            saved.model,
            saved.currency,
        ) == (750, 125, 200, 99, "first", "EUR")
    response = browser.post(
        "/merchant/attribution/settings",
        data={
            "cps_rate_percent": "150",
            "cpa_signup": "-1",
            "cpa_event_signup": "x",
            "cpa_team_join": "2",
            "cpa_first_purchase": "0",
            "model": "nope",
            "currency": "EUR",
        },
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(MerchantSettings, merchant.id).cps_rate_bp == 750
    member = app.test_client()
    login(member, make_user("nosy"))
    assert member.get("/merchant/attribution/settings").status_code == 403
    assert (
        member.post("/merchant/attribution/settings", data={"cps_rate_percent": "1"}).status_code
        == 403
    )


@pytest.fixture
def earned(app, make_user, offers, post_with_offer, clock):
    """Alice's post led to two orders: one completed long ago (approved), one refunded."""
    clock.at(START)
    merchant, alice, buyer = (
        make_user("shopkeeper", role="merchant"),
        make_user("alice"),
        make_user("buyer"),
    )
    set_rates(app, merchant, cps_rate_bp=1000)
    offer = offers.add(merchant)
    browser = app.test_client()
    login(browser, buyer)
    click(browser, tracked_href(app, post_with_offer(alice, offer), offer))
    paid = START + timedelta(hours=1)
    with app.app_context(), app.test_request_context("/"):
        from forum.attribution import service

        service.record_order(
            facts(
                1,
                buyer,
                merchant,
                total=20_000,
                status="completed",
                paid_at=paid,
                completed_at=paid,
            )
        )
        service.record_order(facts(2, buyer, merchant, total=6_000, paid_at=paid))
        service.record_order(
            facts(
                2, buyer, merchant, total=6_000, status="refunded", paid_at=paid, refunded_at=paid
            )
        )
        db.session.commit()
        clock.at(START + timedelta(days=20))
        service.approve_due()
        db.session.commit()
    return {"merchant": merchant, "alice": alice, "buyer": buyer}


def test_me_earnings(app, client, earned, token_for, make_user):
    response = client.get("/api/v1/me/earnings", headers=token_for(earned["alice"]))
    assert response.status_code == 200
    body = response.get_json()
    statuses = sorted(
        (i["conversion"]["kind"], i["status"], i["commission_cents"]) for i in body["items"]
    )
    assert statuses == [
        ("first_purchase", "no_commission", 0),
        ("order", "approved", 2_000),
        ("order", "reversed", 0),
    ]
    item = next(i for i in body["items"] if i["status"] == "approved")
    assert (
        item["reward_cents"] == 1_000
        and item["source"]["kind"] == "post"
        and item["offer"]["kind"] == "product"
    )
    assert body["totals"]["approved_cents"] == 2_000 and body["totals"]["reward_cents"] == 1_000
    assert body["totals"]["reversed_cents"] == 600 and body["totals"]["earned_cents"] == 2_000
    with app.app_context():
        assert members.balance(earned["alice"].id, "credit") == 1_000
    page = client.get("/api/v1/me/earnings?limit=2", headers=token_for(earned["alice"])).get_json()
    rest = client.get(
        f"/api/v1/me/earnings?limit=2&cursor={page['next_cursor']}",
        headers=token_for(earned["alice"]),
    ).get_json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    # Someone else sees only their own (nothing), anonymous gets 401, a forged cursor 422.
    assert (
        client.get("/api/v1/me/earnings", headers=token_for(earned["buyer"])).get_json()["items"]
        == []
    )
    assert client.get("/api/v1/me/earnings").status_code == 401
    assert (
        client.get(
            "/api/v1/me/earnings?cursor=WyJ4Il0", headers=token_for(earned["alice"])
        ).status_code
        == 422
    )


def test_earnings_page_and_wallet(app, earned):
    browser = app.test_client()
    login(browser, earned["alice"])
    html = browser.get("/me/earnings").get_data(as_text=True)
    assert "Your posts earned $20.00" in html and "Approved" in html and "Reversed" in html
    wallet = browser.get("/wallet").get_data(as_text=True)
    assert "post earnings" in wallet and "$10.00" in wallet
    assert app.test_client().get("/me/earnings").status_code == 302


def test_admin_payouts_api_and_page(app, client, earned, make_user, token_for):
    admin = make_user("boss", role="admin")
    merchant_id = earned["merchant"].id
    assert (
        client.post(
            "/api/v1/admin/attribution/payouts",
            json={"merchant_id": merchant_id},
            headers=token_for(earned["merchant"]),
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/api/v1/admin/attribution/payouts", json={"merchant_id": "x"}, headers=token_for(admin)
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/admin/attribution/payouts", json={"merchant_id": 999}, headers=token_for(admin)
        ).status_code
        == 404
    )
    response = client.post(
        "/api/v1/admin/attribution/payouts",
        json={"merchant_id": merchant_id},
        headers=token_for(admin),
    )
    assert response.status_code == 201
    [payout] = response.get_json()["items"]
    assert payout["total_cents"] == 2_000 and payout["entries"] == 1
    again = client.post(
        "/api/v1/admin/attribution/payouts",
        json={"merchant_id": merchant_id},
        headers=token_for(admin),
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "nothing_to_pay"
    with app.app_context():
        statuses = db.session.scalars(db.select(Commission.status).order_by(Commission.id)).all()
        assert statuses == ["paid", "reversed", "reversed"]
    browser = app.test_client()
    login(browser, admin)
    page = browser.get("/admin/attribution")
    assert page.status_code == 200 and b"Recent payouts" in page.data
    response = browser.post("/admin/attribution/payouts", data={"merchant_id": merchant_id})
    assert response.status_code == 303  # nothing left: a flash, not an error page
    assert browser.post("/admin/attribution/payouts", data={}).status_code == 303


def test_openapi_lists_the_attribution_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"patch", "get"} <= set(paths["/api/v1/merchant"])
    assert "get" in paths["/api/v1/merchant/attribution"] and "get" in paths["/api/v1/me/earnings"]
