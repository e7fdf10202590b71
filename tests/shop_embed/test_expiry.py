"""Unpaid orders expire: their stock comes back at once (job or not), the job tidies up."""

from datetime import timedelta

import time_machine

from forum.clock import now
from forum.extensions import db
from forum.shop_embed import service
from forum.shop_embed.models import Order, OrderEvent, StockReservation
from forum.shop_embed.tasks import expire_orders
from tests.conftest import login

from .conftest import conservation, counts, order_body


def stock_of(client, product_id):
    return client.get(f"/api/v1/products/{product_id}").json["stock"]


def test_expired_holds_stop_counting_before_any_job_runs(
    app, client, shop, make_product, buyer_headers, make_user, token_for
):
    widget = make_product(shop, stock=3)
    order_id = client.post(
        "/api/v1/orders", json=order_body((widget, 3)), headers=buyer_headers
    ).json["id"]
    assert stock_of(client, widget) == 0
    late = token_for(make_user("latecomer"))
    assert (
        client.post("/api/v1/orders", json=order_body((widget, 1)), headers=late).status_code == 409
    )

    with time_machine.travel(now() + timedelta(minutes=31), tick=False):
        # No job has run: the hold is still "active" in the table but no longer counts.
        with app.app_context():
            assert db.session.get(Order, order_id).status == "pending"
        assert stock_of(client, widget) == 3
        # A new buyer takes units straight out of the expired hold.
        response = client.post("/api/v1/orders", json=order_body((widget, 2)), headers=late)
        assert response.status_code == 201, response.json
        assert stock_of(client, widget) == 1
        conservation(app, widget, 3)  # remaining 1 + sold 0 + held 2
        # The expired order cannot be paid any more.
        paid = client.post(
            f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=buyer_headers
        )
        assert paid.status_code == 409 and paid.json["error"]["code"] == "order_expired"
        # The job cancels it without giving its (already released) units back twice.
        assert expire_orders.delay().get() == 1
        assert expire_orders.delay().get() == 0  # idempotent
        assert stock_of(client, widget) == 1
        assert conservation(app, widget, 3) == {"remaining": 1, "sold": 0, "held": 2}
        order = client.get(f"/api/v1/orders/{order_id}", headers=buyer_headers).json
        assert order["status"] == "cancelled"
        assert [(e["type"], e["to_status"]) for e in order["events"]] == [
            ("placed", "pending"),
            ("expired", "cancelled"),
        ]


def test_the_job_releases_stock_even_if_nobody_visits(
    app, client, shop, make_product, buyer_headers
):
    widget = make_product(shop, stock=5)
    order_id = client.post(
        "/api/v1/orders", json=order_body((widget, 4)), headers=buyer_headers
    ).json["id"]
    with time_machine.travel(now() + timedelta(minutes=29), tick=False):
        assert expire_orders.delay().get() == 0
    with time_machine.travel(now() + timedelta(minutes=30, seconds=1), tick=False):
        assert expire_orders.delay().get() == 1
        with app.app_context():
            order = db.session.get(Order, order_id)
            assert order.status == "cancelled" and order.cancelled_at is not None
            holds = db.session.scalars(
                db.select(StockReservation).where(StockReservation.order_id == order_id)
            ).all()
            assert [h.state for h in holds] == ["released"]
        assert conservation(app, widget, 5) == {"remaining": 5, "sold": 0, "held": 0}


def test_reading_an_overdue_order_writes_nothing_and_shows_it_expired(
    app, client, shop, make_product, buyer, buyer_headers, count_queries
):
    """GETs never write: the page and the API show an overdue order as expired from the
    rule alone; the sweep is what records the expiry."""
    widget = make_product(shop, stock=2)
    order_id = client.post(
        "/api/v1/orders", json=order_body((widget, 2)), headers=buyer_headers
    ).json["id"]
    login(client, buyer)
    with time_machine.travel(now() + timedelta(hours=2), tick=False):
        before = counts(app)
        with count_queries() as statements:
            order = client.get(f"/api/v1/orders/{order_id}", headers=buyer_headers).json
            page = client.get(f"/shop/orders/{order_id}")
        # (The API token's last-use stamp is the auth layer's bookkeeping, not the order's.)
        writes = [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
        assert [s for s in writes if "api_tokens" not in s] == []
        assert counts(app) == before
        with app.app_context():
            assert db.session.get(Order, order_id).status == "pending"  # not written down yet
        # ... and yet every reader sees it as what it is: cancelled, stock back, not payable.
        assert order["status"] == "cancelled"
        assert [e["type"] for e in order["events"]] == ["placed"]
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "data-overdue" in html and "Expired" in html and "The time to pay ran out" in html
        assert 'value="pay"' not in html and "/pay" not in html
        assert stock_of(client, widget) == 2
        # The sweep is what expires it; then the history says so.
        assert expire_orders.delay().get() == 1
        order = client.get(f"/api/v1/orders/{order_id}", headers=buyer_headers).json
        assert order["status"] == "cancelled" and order["events"][-1]["type"] == "expired"
        assert conservation(app, widget, 2) == {"remaining": 2, "sold": 0, "held": 0}
        page = client.get(f"/shop/orders/{order_id}").get_data(as_text=True)
        assert "data-overdue" not in page and "Cancelled" in page


def test_the_window_is_configurable(app, client, shop, make_product, buyer_headers):
    app.config["ORDER_PAYMENT_WINDOW_MINUTES"] = 5
    widget = make_product(shop, stock=2)
    client.post("/api/v1/orders", json=order_body((widget, 2)), headers=buyer_headers)
    with time_machine.travel(now() + timedelta(minutes=6), tick=False):
        assert stock_of(client, widget) == 2


def test_choosing_offline_payment_extends_the_hold(app, client, shop, make_product, buyer_headers):
    widget = make_product(shop, stock=2)
    order_id = client.post(
        "/api/v1/orders", json=order_body((widget, 2)), headers=buyer_headers
    ).json["id"]
    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "offline"}, headers=buyer_headers
    )
    with time_machine.travel(now() + timedelta(hours=24), tick=False):
        assert stock_of(client, widget) == 0
        assert expire_orders.delay().get() == 0
        assert (
            client.post(f"/api/v1/orders/{order_id}/mark-paid", headers=shop.headers).json["status"]
            == "paid"
        )
    with time_machine.travel(now() + timedelta(days=10), tick=False):
        assert expire_orders.delay().get() == 0
        assert conservation(app, widget, 2) == {"remaining": 0, "sold": 2, "held": 0}


def test_an_offline_order_never_confirmed_expires_after_its_longer_window(
    app, client, shop, make_product, buyer_headers
):
    widget = make_product(shop, stock=2)
    order_id = client.post(
        "/api/v1/orders", json=order_body((widget, 1)), headers=buyer_headers
    ).json["id"]
    client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "offline"}, headers=buyer_headers
    )
    with time_machine.travel(now() + timedelta(hours=73), tick=False):
        assert expire_orders.delay().get() == 1
        response = client.post(f"/api/v1/orders/{order_id}/mark-paid", headers=shop.headers)
        assert response.status_code == 409
        with app.app_context():
            types = db.session.scalars(
                db.select(OrderEvent.type)
                .where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.id)
            ).all()
            assert types == ["placed", "payment_started", "expired"]
        assert conservation(app, widget, 2) == {"remaining": 2, "sold": 0, "held": 0}


def test_expire_due_orders_counts_only_what_it_moved(ctx, shop, make_product, buyer):
    from forum.accounts.models import User

    widget = make_product(shop, stock=9)
    with ctx.test_request_context("/"):
        user = db.session.get(User, buyer.id)
        for _ in range(3):
            service.place_order(user, [(widget, 1)])
        db.session.commit()
        with time_machine.travel(now() + timedelta(minutes=45), tick=False):
            assert service.expire_due_orders() == 3
            db.session.commit()
            assert service.expire_due_orders() == 0
