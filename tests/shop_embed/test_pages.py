"""Shop pages: cards in posts, product pages, cart, checkout, orders and the merchant area."""

import io
import re

import pytest
from PIL import Image

from forum.extensions import db
from forum.shop_embed.models import Order, Product
from tests.conftest import login

from .conftest import counts


@pytest.fixture
def shop_client(app, shop):
    client = app.test_client()
    login(client, shop.user)
    return client


@pytest.fixture
def buyer_client(app, buyer):
    client = app.test_client()
    login(client, buyer)
    return client


def card_html(page: str, product_id: int) -> str:
    match = re.search(
        rf'<div class="widget product-card[^"]*" data-live-room="offer:product:{product_id}".*?data-buy[^>]*>[^<]*</a>\s*</div>',
        page,
        re.S,
    )
    assert match, page[:2000]
    return match.group(0)


# --- product cards -------------------------------------------------------------------


def test_a_product_embedded_in_a_post_renders_a_live_card(
    client, shop, make_product, make_thread, make_user
):
    product_id = make_product(shop, "Trail shoes", price_cents=8999, stock=3)
    thread_id = make_thread(
        make_user("fan"), body=f"Look at these:\n\n[[product:{product_id}]]\n\nNice, right?"
    )
    page = client.get(f"/t/{thread_id}").get_data(as_text=True)
    card = card_html(page, product_id)
    assert (
        "Trail shoes" in card
        and "$89.99" in card
        and "Only 3 left" in card
        and "Acme Store" in card
    )
    assert 'data-stock="3"' in card and ">Buy<" in card
    assert 'href="/go/' in card  # the widget's tracked href (attribution signs it)
    assert "/static/js/shop.js" in page and "/static/css/shop.css" in page  # base.html loads both


def test_sold_out_archived_and_missing_products(
    client, app, shop, make_product, make_thread, make_user
):
    sold_out = make_product(shop, "Gone", stock=0)
    archived = make_product(shop, "Old")
    hidden = make_product(shop, "Draft", active=False)
    with app.app_context():
        db.session.get(Product, archived).archived_at = db.func.now()
        db.session.commit()
    body = f"[[product:{sold_out}]]\n\n[[product:{archived}]]\n\n[[product:{hidden}]]\n\n[[product:999999]]"
    thread_id = make_thread(make_user("fan"), body=body)
    response = client.get(f"/t/{thread_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    card = card_html(page, sold_out)
    assert "Sold out" in card and "is-sold-out" in card and 'aria-disabled="true"' in card
    assert page.count("Offer unavailable") == 3
    assert "Old" not in page and "Draft" not in page


def test_cards_cannot_be_forged_by_users(client, make_thread, make_user):
    forged = '<div class="widget product-card" data-live-room="offer:product:1"><a href="/evil">Buy</a></div>'
    thread_id = make_thread(make_user("forger"), body=forged)
    page = client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert 'class="widget product-card"' not in page and "data-live-room" not in page


def test_cards_on_a_thread_cost_a_fixed_number_of_queries(
    app, client, shop, make_product, make_thread, make_user
):
    from sqlalchemy import event

    ids = [make_product(shop, f"P{i}") for i in range(8)]
    thread_id = make_thread(make_user("fan"), body="\n\n".join(f"[[product:{i}]]" for i in ids))
    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = client.get(f"/t/{thread_id}").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert page.count("product-card") >= 8
    shop_queries = [s for s in statements if "shop_" in s]
    assert len(shop_queries) <= 3, shop_queries


# --- product page, cart and checkout ----------------------------------------------


def test_product_page_and_storefront(client, shop, make_product):
    product_id = make_product(
        shop, "Kettle", description="Boils *fast*.\n\n<script>alert(1)</script>", stock=20
    )
    page = client.get(f"/shop/p/{product_id}").get_data(as_text=True)
    assert "Kettle" in page and "<em>fast</em>" in page and "<script>alert" not in page
    assert "In stock" in page and "Log in to buy" in page
    assert f'data-live-room="offer:product:{product_id}"' in page
    assert "Kettle" in client.get("/shop/m/acme").get_data(as_text=True)
    assert "Kettle" in client.get("/shop/").get_data(as_text=True)
    assert client.get("/shop/m/nope").status_code == 404
    assert client.get("/shop/p/99999").status_code == 404


def test_buy_now_checkout_with_sandbox(app, buyer_client, shop, make_product):
    product_id = make_product(shop, "Lamp", price_cents=2000, stock=5)
    response = buyer_client.post(
        "/shop/cart/add", data={"product_id": product_id, "quantity": 2, "buy_now": "1"}
    )
    assert response.status_code == 302 and "/shop/checkout?product=" in response.headers["Location"]
    checkout = buyer_client.get(response.headers["Location"])
    page = checkout.get_data(as_text=True)
    assert checkout.status_code == 200 and "$45.00" in page  # 2 × 20.00 + 5.00 shipping
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    form = {
        "name": "Bea",
        "line1": "1 Main St",
        "city": "Town",
        "postal_code": "111",
        "country": "US",
        "provider": "sandbox",
        "idempotency_key": key,
    }
    placed = buyer_client.post(response.headers["Location"], data=form)
    assert placed.status_code == 302, placed.get_data(as_text=True)[:3000]
    confirmation = buyer_client.get(placed.headers["Location"]).get_data(as_text=True)
    assert "your order is paid" in confirmation and "Lamp" in confirmation
    # Submitting the same form again (double click) places nothing new.
    again = buyer_client.post(response.headers["Location"], data=form)
    assert again.status_code == 302 and again.headers["Location"] == placed.headers["Location"]
    with app.app_context():
        orders = db.session.scalars(db.select(Order)).all()
        assert len(orders) == 1 and orders[0].status == "paid" and orders[0].total_cents == 4500
        assert orders[0].shipping_address["city"] == "Town"
    assert "Lamp" in buyer_client.get("/shop/orders").get_data(as_text=True)
    # The next checkout offers the address used last.
    again_page = buyer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="1 Main St"' in again_page and 'value="Town"' in again_page


def test_checkout_form_errors_write_nothing(app, buyer_client, shop, make_product):
    product_id = make_product(shop, stock=5)
    before = counts(app)
    url = f"/shop/checkout?product={product_id}&quantity=1"
    response = buyer_client.post(
        url, data={"name": "", "provider": "sandbox", "idempotency_key": "abcdefgh123"}
    )
    assert response.status_code == 422
    assert "This field is required." in response.get_data(as_text=True)
    response = buyer_client.post(
        f"/shop/checkout?product={product_id}&quantity=9",
        data={
            "name": "Bea",
            "line1": "1 Main St",
            "city": "Town",
            "postal_code": "111",
            "country": "US",
            "provider": "sandbox",
            "idempotency_key": "abcdefgh1234",
        },
    )
    assert response.status_code == 409
    assert "Only 5 left" in response.get_data(as_text=True)
    assert counts(app) == before


def test_the_cart_holds_one_shop_at_a_time(app, buyer_client, shop, make_shop, make_product):
    mine = make_product(shop, "Mine", price_cents=1000)
    theirs = make_product(make_shop("rival"), "Theirs")
    assert (
        buyer_client.post("/shop/cart/add", data={"product_id": mine, "quantity": 3}).status_code
        == 302
    )
    refused = buyer_client.post(
        "/shop/cart/add", data={"product_id": theirs, "quantity": 1}, follow_redirects=True
    ).get_data(as_text=True)
    assert "another shop" in refused
    cart = buyer_client.get("/shop/cart").get_data(as_text=True)
    assert "Mine" in cart and "Theirs" not in cart and "$35.00" in cart
    for quantity in (0, 100, -1, "lots"):
        page = buyer_client.post(
            "/shop/cart/add", data={"product_id": mine, "quantity": quantity}, follow_redirects=True
        ).get_data(as_text=True)
        assert "Choose a quantity" in page
    buyer_client.post("/shop/cart/update", data={"product_id": mine, "quantity": 1})
    assert "$15.00" in buyer_client.get("/shop/cart").get_data(as_text=True)
    assert (
        buyer_client.post("/shop/cart/add", data={"product_id": 99999, "quantity": 1}).status_code
        == 404
    )


def test_cart_checkout_with_offline_payment(app, buyer_client, shop_client, shop, make_product):
    product_id = make_product(shop, "Rice", price_cents=3000, stock=4)
    buyer_client.post("/shop/cart/add", data={"product_id": product_id, "quantity": 2})
    page = buyer_client.get("/shop/checkout").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page).group(1)
    placed = buyer_client.post(
        "/shop/checkout",
        data={
            "name": "Bea",
            "line1": "1 Main St",
            "city": "Town",
            "postal_code": "111",
            "country": "US",
            "provider": "offline",
            "idempotency_key": key,
        },
    )
    assert placed.status_code == 302
    order_url = placed.headers["Location"].split("?")[0]
    assert "Pay the shop directly" in buyer_client.get(placed.headers["Location"]).get_data(
        as_text=True
    )
    assert "Your cart is empty" in buyer_client.get("/shop/cart").get_data(as_text=True)
    merchant_view = shop_client.get("/shop/merchant/orders").get_data(as_text=True)
    assert "Mark paid" in merchant_view and "buyer" in merchant_view
    # The buyer's name opens the user card, as names do elsewhere.
    assert 'href="/u/buyer" data-user-card="/u/buyer/card"' in merchant_view
    order_id = int(order_url.rsplit("/", 1)[1])
    assert shop_client.post(f"/shop/orders/{order_id}/mark-paid").status_code == 302
    assert (
        shop_client.post(f"/shop/orders/{order_id}/ship", data={"tracking": "ZX9"}).status_code
        == 302
    )
    page = buyer_client.get(order_url).get_data(as_text=True)
    assert "Shipped" in page and "tracking ZX9" in page and "I received it" in page


def test_orders_pages_are_private(
    app, buyer_client, shop_client, shop, make_shop, make_product, make_user
):
    product_id = make_product(shop)
    with app.test_request_context("/"):
        from forum.accounts.models import User
        from forum.shop_embed import service

        order, _ = service.place_order(
            db.session.get(User, make_user("someone").id), [(product_id, 1)]
        )
        db.session.commit()
        order_id = order.id
    assert buyer_client.get(f"/shop/orders/{order_id}").status_code == 404
    assert buyer_client.post(f"/shop/orders/{order_id}/cancel").status_code == 404
    rival = app.test_client()
    login(rival, make_shop("rival").user)
    assert rival.get(f"/shop/orders/{order_id}").status_code == 404
    assert shop_client.get(f"/shop/orders/{order_id}").status_code == 200
    # The merchant may see it but not pay it; a refused action changes nothing.
    before = counts(app)
    response = shop_client.post(
        f"/shop/orders/{order_id}/pay", data={"provider": "sandbox"}, follow_redirects=True
    )
    assert "Only the buyer can pay" in response.get_data(as_text=True)
    assert counts(app) == before
    assert shop_client.post(f"/shop/orders/{order_id}/explode").status_code == 404


# --- merchant area -------------------------------------------------------------------


def test_members_cannot_enter_the_merchant_area(buyer_client):
    for url in (
        "/shop/merchant",
        "/shop/merchant/products/new",
        "/shop/merchant/orders",
        "/shop/merchant/profile",
    ):
        assert buyer_client.get(url).status_code == 403


def test_merchant_creates_edits_and_archives_a_product_with_an_image(
    app, shop_client, shop, tmp_path
):
    image = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(image, "JPEG")
    response = shop_client.post(
        "/shop/merchant/products/new",
        data={
            "name": "Blue mug",
            "description": "Holds *tea*.",
            "price": "12.50",
            "stock": "6",
            "active": "y",
            "image": (io.BytesIO(image.getvalue()), "mug.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        product = db.session.scalars(db.select(Product)).one()
        assert (product.price_cents, product.stock, product.image_name.endswith(".jpg")) == (
            1250,
            6,
            True,
        )
        product_id = product.id
    home = shop_client.get("/shop/merchant").get_data(as_text=True)
    assert "Blue mug" in home and f"[[product:{product_id}]]" in home
    edit = shop_client.get(f"/shop/merchant/products/{product_id}/edit").get_data(as_text=True)
    assert 'value="12.50"' in edit
    response = shop_client.post(
        f"/shop/merchant/products/{product_id}/edit",
        data={
            "name": "Blue mug",
            "description": "",
            "price": "9.99",
            "stock": "6",
            "stock_seen": "6",
            "active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Product, product_id).price_cents == 999
    assert shop_client.post(f"/shop/merchant/products/{product_id}/archive").status_code == 302
    with app.app_context():
        assert db.session.get(Product, product_id).archived_at is not None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"price": "-1"}, "Use a price of 0 or more"),
        ({"price": "1.234"}, "USD has 2 decimals: use at most 2."),
        ({"price": "abc"}, "Type an amount like 12.50."),
        ({"stock": "-4"}, "Use a whole number from 0"),
        ({"name": "x"}, "Field must be between 2 and 120 characters long."),
    ],
)
def test_bad_product_forms_show_errors_and_write_nothing(app, shop_client, shop, data, message):
    shop_client.get("/shop/merchant")
    before = counts(app)
    form = {"name": "Mug", "description": "", "price": "5.00", "stock": "3", "active": "y", **data}
    response = shop_client.post("/shop/merchant/products/new", data=form)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts(app) == before


def test_non_image_upload_in_the_form_writes_nothing(app, shop_client, shop, tmp_path):
    before = counts(app)
    response = shop_client.post(
        "/shop/merchant/products/new",
        data={
            "name": "Mug",
            "price": "5.00",
            "stock": "3",
            "active": "y",
            "image": (io.BytesIO(b"#!/bin/sh\necho hi\n"), "mug.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Upload a JPEG, PNG, WebP or GIF image." in response.get_data(as_text=True)
    assert counts(app) == before
    assert not (tmp_path / "uploads" / "products").exists()


def test_only_the_owner_edits_in_the_merchant_area(app, shop, make_shop, make_product):
    product_id = make_product(shop)
    rival_client = app.test_client()
    login(rival_client, make_shop("rival").user)
    before = counts(app)
    assert rival_client.get(f"/shop/merchant/products/{product_id}/edit").status_code == 404
    assert (
        rival_client.post(
            f"/shop/merchant/products/{product_id}/edit",
            data={"name": "Hacked", "price": "0.01", "stock": "0"},
        ).status_code
        == 404
    )
    assert rival_client.post(f"/shop/merchant/products/{product_id}/archive").status_code == 404
    assert counts(app) == before


def test_merchant_profile_form(app, make_user):
    seller = make_user("seller", role="merchant")
    client = app.test_client()
    login(client, seller)
    assert client.get("/shop/merchant").status_code == 302  # no profile yet: set it up first
    page = client.get("/shop/merchant/profile").get_data(as_text=True)
    assert 'value="seller"' in page
    bad = client.post(
        "/shop/merchant/profile",
        data={
            "name": "Seller",
            "slug": "Bad Slug!",
            "logo_initials": "SE",
            "currency": "USD",
            "shipping_fee": "-2",
        },
    )
    assert bad.status_code == 422
    ok = client.post(
        "/shop/merchant/profile",
        data={
            "name": "Seller Shop",
            "slug": "seller-shop",
            "logo_initials": "SS",
            "currency": "EUR",
            "shipping_fee": "4.90",
            "free_shipping_threshold": "50",
        },
    )
    assert ok.status_code == 302
    assert "Seller Shop" in client.get("/shop/m/seller-shop").get_data(as_text=True)


def test_an_order_without_an_address_asks_the_buyer_for_one(
    app, client, buyer_client, shop_client, shop, make_product, buyer_headers, make_user
):
    """Orders made in place (a snap-up, a group-buy) start without an address."""
    product_id = make_product(shop, "Lamp", price_cents=2000, stock=5)
    earlier = client.post(
        "/api/v1/orders",
        json={
            "items": [{"product_id": product_id, "quantity": 1}],
            "shipping_address": {
                "name": "Bea",
                "line1": "9 Old Road",
                "city": "Town",
                "postal_code": "111",
                "country": "US",
            },
        },
        headers=buyer_headers,
    )
    assert earlier.status_code == 201
    order_id = client.post(
        "/api/v1/orders",
        json={"items": [{"product_id": product_id, "quantity": 1}]},
        headers=buyer_headers,
    ).json["id"]
    url = f"/shop/orders/{order_id}"

    page = buyer_client.get(url).get_data(as_text=True)
    assert "Where should we send it?" in page and 'class="address-editor" open' in page
    assert 'value="9 Old Road"' in page  # the last address, offered again
    merchant_view = shop_client.get(url).get_data(as_text=True)
    assert (
        "the buyer is asked for one" in merchant_view and "data-address-editor" not in merchant_view
    )

    before = counts(app)
    bad = buyer_client.post(f"{url}/address", data={"name": "Bea", "line1": "", "city": "Town"})
    assert bad.status_code == 422
    assert "This field is required." in bad.get_data(as_text=True)
    assert shop_client.post(f"{url}/address", data={"name": "X"}).status_code == 403
    stranger = app.test_client()
    login(stranger, make_user("stranger"))
    assert stranger.post(f"{url}/address", data={"name": "X"}).status_code == 404
    assert counts(app) == before

    address = {
        "name": "Bea",
        "line1": "2 New St",
        "city": "Town",
        "postal_code": "222",
        "country": "US",
    }
    saved = buyer_client.post(f"{url}/address", data=address)
    assert saved.status_code == 302 and saved.headers["Location"] == url
    page = buyer_client.get(url).get_data(as_text=True)
    assert "2 New St" in page and "Change the address" in page
    with app.app_context():
        assert db.session.get(Order, order_id).shipping_address["postal_code"] == "222"

    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
    )
    client.post(f"/api/v1/orders/{order_id}/ship", json={}, headers=shop.headers)
    assert "data-address-editor" not in buyer_client.get(url).get_data(as_text=True)
    late = buyer_client.post(f"{url}/address", data={**address, "line1": "3 Late St"})
    assert late.status_code == 422 and "can no longer change" in late.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Order, order_id).shipping_address["line1"] == "2 New St"
