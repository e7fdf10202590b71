"""With CSRF on: the in-place touch and the merchant/admin forms refuse requests without a token."""

import re

import pytest

from forum.attribution.models import Click, MerchantSettings
from forum.extensions import db
from tests.attribution.conftest import TOUCH, tracked_href


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def _token(client, path):
    return re.search(
        r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


def test_touch_needs_the_csrf_token(app, make_user, offers, post_with_offer):
    merchant, author, reader = (
        make_user("shopkeeper", role="merchant"),
        make_user("writer"),
        make_user("reader"),
    )
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert (
        browser.post(
            "/login",
            data={
                "username": reader.username,
                "password": reader.password,
                "csrf_token": form_token,
            },
        ).status_code
        == 302
    )
    without = {k: v for k, v in TOUCH.items() if k != "X-CSRFToken"}
    assert browser.post(href, headers=without).status_code == 400
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Click)) == 0
    token = _token(browser, "/")
    assert browser.post(href, headers={**TOUCH, "X-CSRFToken": token}).status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Click)) == 1


def test_settings_form_needs_the_csrf_token(app, make_user):
    merchant = make_user("shopkeeper", role="merchant")
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    browser.post(
        "/login",
        data={
            "username": merchant.username,
            "password": merchant.password,
            "csrf_token": form_token,
        },
    )
    data = {
        "cps_rate_percent": "5",
        "cpa_signup": "1",
        "cpa_event_signup": "1",
        "cpa_team_join": "1",
        "cpa_first_purchase": "1",
        "model": "last",
        "currency": "USD",
    }
    assert browser.post("/merchant/attribution/settings", data=data).status_code in (400, 422)
    with app.app_context():
        assert db.session.get(MerchantSettings, merchant.id) is None
    data["csrf_token"] = _token(browser, "/merchant/attribution/settings")
    assert browser.post("/merchant/attribution/settings", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(MerchantSettings, merchant.id).cps_rate_bp == 500
