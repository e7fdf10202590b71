"""The sold-out marker: attempts after the last unit are answered without reading stock,
and a unit that comes back (cancel, refund, a lapsed payment window) is takeable at once."""

import uuid
from datetime import timedelta

import time_machine

from forum.clock import now
from forum.extensions import db
from forum.promotions.service import soldout
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS

from .conftest import snap_conservation

# A sold-out attempt with a marker: the token, the token's last-used touch (rolled back
# with the refusal), and one read of the snap-up's limit, the buyer's own units and
# whether the key names one of their orders. The snap-up row is not loaded.
SOLD_OUT_STATEMENTS = 3
STOCK_READS = ("promo_snap_purchases", "stock_left", "shop_stock_reservations")


def buy(client, snap_id, headers, quantity=1, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"/api/v1/snaps/{snap_id}/buy",
        json={"quantity": quantity, "shipping_address": ADDRESS},
        headers={**headers, **extra},
    )


def _sold_out_attempt(client, snap_id, headers, count_queries, code="sold_out") -> list[str]:
    with count_queries() as statements:
        refused = buy(client, snap_id, headers, key=uuid.uuid4().hex)
    assert refused.status_code == 409 and refused.json["error"]["code"] == code, refused.json
    return [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


def test_after_the_last_unit_attempts_skip_the_stock_reads_and_a_cancelled_unit_sells_at_once(
    app, client, product, make_snap, members, count_queries
):
    snap = make_snap(product, stock=2, per_user_limit=2)
    (a, a_h), (b, b_h), (c, c_h) = members(3)
    with time_machine.travel(now(), tick=False):  # no time passes: nothing can lapse
        order = buy(client, snap["id"], a_h, quantity=2).json
        first = _sold_out_attempt(client, snap["id"], b_h, count_queries)  # reads, then marks
        assert any("promo_snap_buyers" in s for s in first)
        marked = _sold_out_attempt(client, snap["id"], c_h, count_queries)
        assert len(marked) <= SOLD_OUT_STATEMENTS, marked
        assert not any(read in s for s in marked for read in STOCK_READS), marked
        cancelled = client.post(
            f"/api/v1/orders/{order['id']}/cancel", json={"reason": "changed my mind"}, headers=a_h
        )
        assert cancelled.status_code == 200, cancelled.json
        bought = buy(client, snap["id"], c_h)
        assert bought.status_code == 201, bought.json
        assert buy(client, snap["id"], b_h).status_code == 201
        _sold_out_attempt(client, snap["id"], c_h, count_queries)
    assert snap_conservation(app, snap["id"]) == {"initial": 2, "left": 0, "sold": 0, "pending": 2}


def test_a_refunded_unit_of_a_paid_sell_out_sells_at_once(
    app, client, shop, product, make_snap, members, count_queries
):
    snap = make_snap(product, stock=1, per_user_limit=1)
    (a, a_h), (b, b_h) = members(2)
    with time_machine.travel(now(), tick=False):
        order = buy(client, snap["id"], a_h).json
        paid = client.post(
            f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers=a_h
        )
        assert paid.json["status"] == "paid"
        _sold_out_attempt(client, snap["id"], b_h, count_queries)
        # Nothing pending: only a give-back can free a unit before the snap-up ends.
        with time_machine.travel(now() + timedelta(minutes=30), tick=False):
            marked = _sold_out_attempt(client, snap["id"], b_h, count_queries)
            assert len(marked) <= SOLD_OUT_STATEMENTS, marked
        refunded = client.post(
            f"/api/v1/orders/{order['id']}/refund", json={"reason": "damaged"}, headers=shop.headers
        )
        assert refunded.status_code == 200, refunded.json
        assert buy(client, snap["id"], b_h).status_code == 201


def test_the_marker_lapses_at_the_first_payment_deadline(
    app, client, product, make_snap, members, count_queries
):
    app.config["SNAP_PAYMENT_WINDOW_MINUTES"] = 3
    snap = make_snap(product, stock=1, per_user_limit=1)
    (a, a_h), (b, b_h) = members(2)
    start = now()
    with time_machine.travel(start, tick=False):
        buy(client, snap["id"], a_h)
        _sold_out_attempt(client, snap["id"], b_h, count_queries)
    with time_machine.travel(start + timedelta(minutes=2, seconds=59), tick=False):
        marked = _sold_out_attempt(client, snap["id"], b_h, count_queries)
        assert len(marked) <= SOLD_OUT_STATEMENTS
    with time_machine.travel(start + timedelta(minutes=3, seconds=1), tick=False):
        assert buy(client, snap["id"], b_h).status_code == 201


def test_after_the_sell_out_each_buyer_still_gets_their_own_answer(
    app, client, shop, product, make_snap, members, count_queries
):
    """The marker answers before the snap-up is loaded, yet a buyer at the limit hears
    limit_reached, a retry with the key of their sale gets its order back, a key spent on
    another order is refused as such, and an ended snap-up says so."""
    snap = make_snap(product, stock=1, per_user_limit=1)
    (a, a_h), (b, b_h), (c, c_h) = members(3)
    with time_machine.travel(now(), tick=False):
        first = buy(client, snap["id"], a_h, key="a-first")
        assert first.status_code == 201, first.json
        _sold_out_attempt(client, snap["id"], b_h, count_queries)  # reads, then marks
        holder = _sold_out_attempt(client, snap["id"], a_h, count_queries, "limit_reached")
        assert len(holder) <= SOLD_OUT_STATEMENTS, holder
        assert not any(read in s for s in holder for read in STOCK_READS), holder
        again = buy(client, snap["id"], a_h, key="a-first")
        assert again.status_code == 201 and again.json["id"] == first.json["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        other = client.post(
            "/api/v1/orders",
            json={"items": [{"product_id": product, "quantity": 1}], "shipping_address": ADDRESS},
            headers={**c_h, "Idempotency-Key": "c-shop"},
        )
        assert other.status_code == 201, other.json
        reused = buy(client, snap["id"], c_h, key="c-shop")
        assert reused.status_code == 422, reused.json
        assert reused.json["error"]["code"] == "idempotency_key_reused"
        assert buy(client, snap["id"], b_h, quantity=3).json["error"]["code"] == "limit_reached"
        ended = client.post(f"/api/v1/snaps/{snap['id']}/end", headers=shop.headers)
        assert ended.status_code == 200, ended.json
        assert buy(client, snap["id"], b_h).json["error"]["code"] == "ended"
    assert client.post("/api/v1/snaps/999999/buy", json={}, headers=b_h).status_code == 404
    assert snap_conservation(app, snap["id"]) == {"initial": 1, "left": 0, "sold": 0, "pending": 1}


def test_a_marker_from_before_a_give_back_is_not_believed(app):
    """A reader saw stock 0, a give-back committed, then the reader stored its marker: the
    generation it read before the stock no longer holds."""
    with app_context(app):
        at = now()
        _, seen = soldout.sold_out(7, at)
        soldout.forget(7)
        db.session.commit()
        soldout.mark(7, seen, at + timedelta(minutes=5), at)
        assert soldout.sold_out(7, at)[0] is False
        _, current = soldout.sold_out(7, at)
        soldout.mark(7, current, at + timedelta(minutes=5), at)
        assert soldout.sold_out(7, at)[0] is True
        assert soldout.sold_out(7, at + timedelta(minutes=5))[0] is False
        soldout.forget(7)
        db.session.rollback()  # a give-back that rolled back frees nothing
        assert soldout.sold_out(7, at)[0] is True
