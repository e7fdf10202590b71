"""Coupon pages: admins manage site coupons, merchants their own (others get 403/404), the
usage page shows the figures; the checkout page applies a coupon and the order shows it."""

from sqlalchemy import select

from forum.extensions import db
from tests.conftest import app_context, login
from tests.fixtures.shop import ADDRESS

from .conftest import coupon_rows

FORM = {
    "code": "page10",
    "kind": "percent",
    "value": "12.5",
    "currency": "USD",
    "min_subtotal_cents": "",
    "max_uses": "20",
    "per_user_limit": "1",
    "audience": "all",
    "completed_orders": "",
}


def client_for(app, user):
    client = app.test_client()
    login(client, user)
    return client


def test_admin_creates_a_site_coupon_on_the_page(app, admin):
    client = client_for(app, admin)
    page = client.get("/admin/coupons")
    assert page.status_code == 200 and "Site-wide coupons" in page.get_data(as_text=True)
    created = client.post("/admin/coupons", data=FORM)
    assert created.status_code == 302 and created.location.endswith("/coupons/PAGE10")
    detail = client.get("/coupons/PAGE10").get_data(as_text=True)
    assert "12.5% off" in detail and "Uses left" in detail
    listing = client.get("/admin/coupons").get_data(as_text=True)
    assert "PAGE10" in listing
    from forum.members.coupons.models import Coupon

    with app_context(app):
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == "PAGE10"))
        assert (coupon.value, coupon.max_uses, coupon.merchant_id) == (1250, 20, None)


def test_form_errors_show_and_write_nothing(app, admin, make_coupon, admin_headers):
    make_coupon(admin_headers, "TAKEN")
    client = client_for(app, admin)
    bad = client.post("/admin/coupons", data={**FORM, "value": "lots"})
    assert bad.status_code == 422 and "Type a percentage" in bad.get_data(as_text=True)
    taken = client.post("/admin/coupons", data={**FORM, "code": "taken"})
    assert taken.status_code == 422 and "Already taken" in taken.get_data(as_text=True)
    assert coupon_rows(app)["uses"] == {"TAKEN": 0}


def test_members_and_merchants_cannot_open_the_admin_page(app, buyer, shop):
    assert client_for(app, buyer).get("/admin/coupons").status_code == 403
    merchant = client_for(app, shop.user)
    assert merchant.get("/admin/coupons").status_code == 403
    assert merchant.post("/admin/coupons", data=FORM).status_code == 403
    assert client_for(app, buyer).get("/shop/merchant/coupons").status_code == 403
    assert coupon_rows(app)["uses"] == {}


def test_merchant_manages_only_their_own_coupons(app, shop, make_shop, make_coupon):
    client = client_for(app, shop.user)
    created = client.post(
        "/shop/merchant/coupons", data={**FORM, "code": "ACME", "kind": "fixed", "value": "5.00"}
    )
    assert created.status_code == 302
    make_coupon(shop.headers, "ACMETWO")
    page = client.get("/shop/merchant/coupons").get_data(as_text=True)
    assert "ACME" in page and "ACMETWO" in page and "$5.00 off" in page
    rival = make_shop("rival")
    other = client_for(app, rival.user)
    assert "ACME" not in other.get("/shop/merchant/coupons").get_data(as_text=True)
    assert other.get("/coupons/ACME").status_code == 404
    assert other.post("/coupons/ACME/active").status_code == 404
    # The owner withdraws it.
    assert client.post("/coupons/ACME/active").status_code == 302
    assert "withdrawn" in client.get("/coupons/ACME").get_data(as_text=True)


def test_usage_page_shows_uses_and_orders(app, admin, admin_headers, buyer, product, make_coupon):
    make_coupon(admin_headers, "STATS", max_uses=3)
    buyer_client = client_for(app, buyer)
    buyer_client.post("/shop/cart/add", data={"product_id": product, "quantity": 2})
    page = buyer_client.post(
        "/shop/checkout",
        data={
            **ADDRESS,
            "provider": "sandbox",
            "idempotency_key": "k" * 20,
            "coupon_code": "stats",
        },
    )
    assert page.status_code == 302, page.get_data(as_text=True)[:2000]
    detail = client_for(app, admin).get("/coupons/STATS").get_data(as_text=True)
    assert "buyer" in detail and "$4.00" in detail and "counts" in detail


def test_checkout_page_applies_a_coupon_and_the_order_shows_it(
    app, admin_headers, buyer, product, make_coupon
):
    make_coupon(admin_headers, "TAKE15", value=1500)
    client = client_for(app, buyer)
    client.post("/shop/cart/add", data={"product_id": product, "quantity": 2})
    applied = client.post(
        "/shop/checkout",
        data={"coupon_code": "take15", "apply_coupon": "1", "idempotency_key": "k" * 20},
    )
    html = applied.get_data(as_text=True)
    assert applied.status_code == 200
    assert "Coupon TAKE15 (−15%)" in html and "-$6.00" in html.replace("−", "-")
    assert "$39.00" in html  # 40.00 - 6.00 + 5.00 shipping
    assert coupon_rows(app)["shop_orders"] == 0  # applying places nothing
    placed = client.post(
        "/shop/checkout",
        data={
            **ADDRESS,
            "provider": "sandbox",
            "idempotency_key": "k" * 20,
            "coupon_code": "TAKE15",
        },
    )
    assert placed.status_code == 302
    order = client.get(placed.location).get_data(as_text=True)
    assert "Coupon TAKE15 (−15%)" in order and "$39.00" in order
    assert coupon_rows(app)["uses"] == {"TAKE15": 1}


def test_checkout_page_shows_a_refused_coupon_on_its_field(
    app, admin_headers, buyer, product, make_coupon
):
    make_coupon(admin_headers, "LOYAL", completed_orders=1)
    client = client_for(app, buyer)
    client.post("/shop/cart/add", data={"product_id": product, "quantity": 1})
    applied = client.post(
        "/shop/checkout",
        data={"coupon_code": "LOYAL", "apply_coupon": "1", "idempotency_key": "k" * 20},
    )
    assert applied.status_code == 422
    assert "exactly 1 completed order; you have 0" in applied.get_data(as_text=True)
    placed = client.post(
        "/shop/checkout",
        data={
            **ADDRESS,
            "provider": "sandbox",
            "idempotency_key": "k" * 20,
            "coupon_code": "LOYAL",
        },
    )
    assert placed.status_code == 409
    assert coupon_rows(app)["shop_orders"] == 0
