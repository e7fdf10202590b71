"""A campaign's coupon: the code must be a real coupon, rides in the letter, and the
report counts its uses by the campaign's recipients (not by anyone else, not uses
given back)."""

import re

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.campaigns import service
from forum.campaigns.models import Campaign
from forum.extensions import db
from forum.members.coupons import service as coupons
from tests.attribution.conftest import BROWSER
from tests.conftest import app_context, login
from tests.fixtures.shop import order_body

from .conftest import outbox
from .test_delivery import send

VERIFIED = {"all": [{"field": "email_verified", "op": "eq", "value": True}]}


@pytest.fixture
def coupon(app, admin):
    with app_context(app), app.test_request_context("/"):
        coupons.create_coupon(
            db.session.get(User, admin.id), code="SECOND10", kind="percent", value=1000
        )
        db.session.commit()
    return "SECOND10"


def _campaign(app, admin, segment_id, body, code):
    with app_context(app), app.test_request_context("/"):
        item = service.create_campaign(
            db.session.get(User, admin.id),
            name="Second",
            channel="email",
            segment_id=segment_id,
            subject="Hi {{name}}",
            body=body,
            coupon_code=code,
        )
        db.session.commit()
        return item.id


def test_an_unknown_coupon_code_is_refused_and_nothing_is_made(
    app, client, admin, token_for, make_segment
):
    segment_id = make_segment(VERIFIED)
    body = {"name": "X", "channel": "email", "segment_id": segment_id, "subject": "S"}
    headers = token_for(admin)
    bad = client.post(
        "/api/v1/admin/campaigns",
        json={**body, "body": "Use {{coupon}}", "coupon_code": "NOPE-NOT-HERE"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "coupon_code" in bad.get_json()["error"]["fields"]
    with app_context(app):
        assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_the_report_counts_coupon_uses_by_recipients_only(
    app, make_user, verify, admin, make_segment, coupon, make_shop, make_product, token_for
):
    shop = make_shop("acme", free_from=None)
    product_id = make_product(shop, "Kettle", price_cents=2000, stock=9)
    bea, outsider = make_user("bea"), make_user("outsider")
    verify(bea)  # the outsider is not verified: not in the segment, gets nothing
    cid = _campaign(
        app,
        admin,
        make_segment(VERIFIED),
        f"Use {{{{coupon}}}}: [[product:{product_id}]]",
        "second10",
    )
    send(app, admin, cid)
    (letter,) = outbox(app)
    assert "SECOND10" in letter.body  # stored as the coupon's own code
    browser = app.test_client()
    login(browser, bea)
    hop = browser.get(
        re.search(r"http://localhost(/c/l/\S+)", letter.body).group(1), headers=BROWSER
    )
    browser.get(hop.headers["Location"], headers=BROWSER)
    admin_headers = token_for(admin)
    report = browser.get(f"/api/v1/admin/campaigns/{cid}", headers=admin_headers).get_json()
    assert report["coupon_uses"] == 0

    for member in (bea, outsider):
        headers = token_for(member)
        placed = browser.post(
            "/api/v1/orders",
            json={**order_body((product_id, 1)), "coupon_code": coupon},
            headers=headers,
        )
        assert placed.status_code == 201, placed.get_json()
        taken = [a for a in placed.json["adjustments"] if a["kind"] == "coupon"]
        assert [a["amount_cents"] for a in taken] == [-200]  # the coupon took 10% off
        paid = browser.post(
            f"/api/v1/orders/{placed.json['id']}/pay", json={"provider": "sandbox"}, headers=headers
        )
        assert paid.status_code == 200
        if member is bea:
            bea_order = placed.json["id"]
    report = browser.get(f"/api/v1/admin/campaigns/{cid}", headers=admin_headers).get_json()
    assert report["coupon_uses"] == 1  # bea's; the outsider's use is not the campaign's
    assert report["orders"] == 1

    # A use given back (the order cancelled before shipping) no longer counts.
    assert browser.post(
        f"/api/v1/orders/{bea_order}/refund", json={}, headers=token_for(shop.user)
    ).status_code in (200, 201)
    report = browser.get(f"/api/v1/admin/campaigns/{cid}", headers=admin_headers).get_json()
    assert report["coupon_uses"] == 0


def test_a_campaign_without_a_coupon_reports_no_coupon_uses(
    app, verify, make_user, admin, make_segment
):
    verify(make_user("ann"))
    cid = _campaign(app, admin, make_segment(VERIFIED), "Hello", "")
    send(app, admin, cid)
    with app_context(app):
        assert service.report(db.session.get(Campaign, cid))["coupon_uses"] is None
