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


# --- the letter's link brings the coupon to checkout (a prefill, never a claim) -------


def _follow_letter(browser, letter):
    """Follow the letter's first link as a reader's browser would: /c/l/ then /go/."""
    hop = browser.get(
        re.search(r"http://localhost(/c/l/\S+)", letter.body).group(1), headers=BROWSER
    )
    assert hop.status_code == 302
    landed = browser.get(hop.headers["Location"], headers=BROWSER)
    assert landed.status_code == 302


def _checkout(browser, product_id, **form):
    url = f"/shop/checkout?product={product_id}&quantity=1"
    if form:
        return browser.post(url, data=form)
    return browser.get(url)


def _coupon_field(page) -> str:
    found = re.search(r'<input[^>]*id="coupon_code"[^>]*>', page.get_data(as_text=True))
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else ""


@pytest.fixture
def kettle(make_shop, make_product):
    return make_product(make_shop("acme", free_from=None), "Kettle", price_cents=2000, stock=9)


def _sent_letter(app, admin, make_segment, kettle, code):
    cid = _campaign(
        app, admin, make_segment(VERIFIED), f"Use {{{{coupon}}}}: [[product:{kettle}]]", code
    )
    send(app, admin, cid)
    (letter,) = outbox(app)
    return letter


def test_following_the_link_fills_the_coupon_in_at_checkout_and_it_can_be_removed(
    app, make_user, verify, admin, make_segment, coupon, kettle
):
    bea = make_user("bea")
    verify(bea)
    letter = _sent_letter(app, admin, make_segment, kettle, coupon)
    browser = app.test_client()
    _follow_letter(browser, letter)  # before logging in: the code survives the login
    login(browser, bea)
    page = _checkout(browser, kettle)
    assert page.status_code == 200
    assert _coupon_field(page) == "SECOND10"
    html = page.get_data(as_text=True)
    assert 'data-adjustment="coupon">-$2.00' in html  # 10% of 20.00
    assert "data-checkout-total>$23.00" in html  # with 5.00 shipping

    # The member removes it: the total is the full price and it does not come back.
    removed = _checkout(browser, kettle, apply_coupon="1", coupon_code="")
    assert 'data-adjustment="coupon"' not in removed.get_data(as_text=True)
    again = _checkout(browser, kettle)
    assert _coupon_field(again) == ""
    assert 'data-adjustment="coupon"' not in again.get_data(as_text=True)


def test_a_forwarded_link_only_prefills_the_coupons_own_rules_refuse_it(
    app, make_user, verify, admin, make_segment, kettle
):
    """The second-purchase coupon rides in bea's letter; the outsider she forwards it to
    (no completed order, not a recipient) gets the field filled in, not the discount:
    the coupon's rule answers with its usual message and nothing is applied."""
    with app_context(app), app.test_request_context("/"):
        coupons.create_coupon(
            db.session.get(User, admin.id),
            code="SECOND10",
            kind="percent",
            value=1000,
            completed_orders=1,
        )
        db.session.commit()
    verify(make_user("bea"))
    outsider = make_user("outsider")
    letter = _sent_letter(app, admin, make_segment, kettle, "SECOND10")
    browser = app.test_client()
    login(browser, outsider)
    _follow_letter(browser, letter)
    page = _checkout(browser, kettle)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "exactly 1 completed order; you have 0" in html
    assert _coupon_field(page) == ""  # not applied: the order can be placed without it
    assert 'data-adjustment="coupon"' not in html and "data-checkout-total>$25.00" in html
    assert "exactly 1 completed order" not in _checkout(browser, kettle).get_data(as_text=True)


def test_a_coupon_withdrawn_after_the_send_is_not_applied(
    app, make_user, verify, admin, make_segment, coupon, kettle
):
    bea = make_user("bea")
    verify(bea)
    letter = _sent_letter(app, admin, make_segment, kettle, coupon)
    with app_context(app):
        coupons.set_active(db.session.get(User, admin.id), coupon, False)
        db.session.commit()
    browser = app.test_client()
    login(browser, bea)
    _follow_letter(browser, letter)
    html = _checkout(browser, kettle).get_data(as_text=True)
    assert "This coupon has been withdrawn." in html
    assert 'data-adjustment="coupon"' not in html


def test_a_forged_link_brings_no_coupon(
    app, make_user, verify, admin, make_segment, coupon, kettle
):
    bea = make_user("bea")
    verify(bea)
    _sent_letter(app, admin, make_segment, kettle, coupon)
    browser = app.test_client()
    login(browser, bea)
    assert browser.get("/c/l/not-a-token", headers=BROWSER).status_code == 302
    page = _checkout(browser, kettle)
    assert _coupon_field(page) == "" and 'data-adjustment="coupon"' not in page.get_data(
        as_text=True
    )
