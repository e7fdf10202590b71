"""Browser: an admin builds the segment "exactly one completed order", sees its count,
sends a campaign with a second-purchase coupon code; the member opens the email in
the development outbox (a real aiosmtpd sink in the server process), follows the
link and buys with the coupon (the link brings it: checkout opens with it filled in);
the campaign report shows the order, its revenue and the coupon's use."""

import re

import pytest

from forum.accounts.models import User
from forum.campaigns import service as campaigns
from forum.clock import now
from forum.extensions import db
from forum.members.coupons import service as coupons
from tests.conftest import app_context
from tests.e2e.conftest import (
    check_out_with_the_sandbox,
    free_port,
    log_in,
    open_shop,
    start_server,
)
from tests.shop_embed.conftest import order_body

pytestmark = pytest.mark.e2e


@pytest.fixture
def mail_server(app, database_uri, tmp_path):
    port = free_port()
    server = start_server(
        database_uri,
        tmp_path,
        {
            "FORUM_SITE_URL": f"http://127.0.0.1:{port}",
            "FORUM_MAIL_SINK": "true",
            "FORUM_MAIL_SINK_PORT": str(free_port()),
            "FORUM_MAIL_SINK_DIR": str(tmp_path / "sink"),
            "FORUM_CAMPAIGN_FREQUENCY_CAP_PER_WEEK": "10",
        },
        port=port,
    )
    yield server
    server.stop()


def one_completed_order(app, token_for, buyer, seller, product_id):
    client = app.test_client()
    headers, shop = token_for(buyer), token_for(seller)
    order = client.post("/api/v1/orders", json=order_body((product_id, 1)), headers=headers).json
    assert (
        client.post(
            f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers=headers
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/v1/orders/{order['id']}/ship", json={"tracking": "T1"}, headers=shop
        ).status_code
        == 200
    )
    assert client.post(f"/api/v1/orders/{order['id']}/complete", headers=headers).status_code == 200


def test_admin_segment_campaign_member_buys_report_shows_it(
    app, mail_server, new_page, make_user, token_for
):
    seller = make_user("acme_store", role="merchant")
    product_id = open_shop(
        app, seller, name="Trail shoes", price_cents=8900, stock=9, shipping_fee_cents=0
    )
    buyer, browser_only = make_user("bea"), make_user("window")
    admin = make_user("chief", role="admin")
    one_completed_order(app, token_for, buyer, seller, product_id)
    with app_context(app), app.test_request_context("/"):
        for user in (buyer, browser_only):
            campaigns.contact(user.id).email_verified_at = now()
        # The second-purchase coupon: members with exactly one completed order.
        coupons.create_coupon(
            db.session.get(User, admin.id),
            code="SECOND10",
            kind="percent",
            value=1000,
            completed_orders=1,
        )
        db.session.commit()

    page = new_page()
    log_in(page, mail_server, admin.username, admin.password)
    page.goto(mail_server("/admin/segments"))
    page.fill("#name", "One order so far")
    page.select_option("#c0_field", "completed_orders")
    page.select_option("#c0_op", "eq")
    page.fill("#c0_value", "1")
    page.locator("[data-segment-count][data-ready]").wait_for()
    page.wait_for_function(
        "() => document.querySelector('[data-segment-count]').textContent === '1'"
    )
    assert "bea" in page.inner_text("[data-segment-sample]")
    page.get_by_role("button", name="Save segment").click()
    page.wait_for_url("**/admin/segments/*")
    assert "1 members" in page.inner_text("main")

    page.goto(mail_server("/admin/campaigns"))
    page.fill("#name", "Second purchase")
    page.select_option("#segment_id", label="One order so far")
    page.fill("#subject", "{{name}}, your second pair")
    page.fill(
        "#body",
        "Hi {{name}}! Use **{{coupon}}** on your next order:\n\n" + f"[[product:{product_id}]]",
    )
    page.fill("#coupon_code", "SECOND10")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url("**/admin/campaigns/*")
    page.locator("[data-action=send]").click()
    page.wait_for_url("**/admin/campaigns/*")
    page.reload()
    assert page.inner_text("[data-campaign-status]") == "sent"
    assert page.inner_text("[data-total=sent]") == "1"
    report_url = page.url

    member = new_page()
    log_in(member, mail_server, buyer.username, buyer.password)
    member.goto(mail_server("/dev/outbox"))
    member.get_by_role("link", name="bea, your second pair").click()
    text = member.inner_text("[data-letter-text]")
    assert "SECOND10" in text and "Hi bea!" in text
    assert "list-unsubscribe-post" in member.inner_text("main").lower()
    member.locator("[data-letter-text] a", has_text="/c/l/").first.click()
    member.wait_for_url(f"**/shop/p/{product_id}")
    member.get_by_role("button", name="Buy now").click()
    member.wait_for_url("**/shop/checkout?product=*")
    # The link brought the campaign's coupon: filled in and applied, nothing typed.
    assert member.input_value("#coupon_code") == "SECOND10"
    member.locator('[data-adjustment="coupon"]').wait_for()
    assert "$80.10" in member.inner_text("[data-checkout-total]")  # 89.00 - 10%
    check_out_with_the_sandbox(member)
    assert "Thank you, your order is paid!" in member.inner_text("main")
    assert "Coupon SECOND10" in member.inner_text("main")

    page.goto(report_url)
    assert page.inner_text("[data-total=orders]") == "1"
    assert page.inner_text("[data-total=clicked]") == "1"
    assert "$80.10" in page.inner_text("[data-total=revenue]")
    assert page.inner_text("[data-total=coupon_uses]") == "1"
    page.screenshot(path="test-artifacts/campaign-report.png", full_page=True)
    page.locator("#campaign-chart[data-ready]").wait_for()
    small = new_page(width=390, height=844)
    log_in(small, mail_server, admin.username, admin.password)
    small.goto(report_url)
    small.screenshot(path="test-artifacts/campaign-report-390.png", full_page=True)
    small.goto(mail_server("/admin/segments/1"))
    assert page.console_errors == [] and member.console_errors == []
    with app_context(app):
        assert db.session.get(User, buyer.id) is not None
    assert re.search(r"/admin/campaigns/\d+$", report_url)
