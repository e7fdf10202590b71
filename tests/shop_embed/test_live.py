"""Live stock: cards watch offer:product:<id> on /live and get the new stock after each change."""

from datetime import timedelta

import time_machine

from forum.clock import now
from forum.extensions import socketio

from .conftest import order_body


def stock_events(reader):
    return [e["args"][0] for e in reader.get_received("/live") if e["name"] == "offer_stock"]


def test_watchers_of_a_product_see_stock_move(app, client, shop, make_product, buyer_headers):
    product_id = make_product(shop, stock=4)
    reader = socketio.test_client(app, namespace="/live")
    ack = reader.emit(
        "watch", {"room": f"offer:product:{product_id}"}, namespace="/live", callback=True
    )
    assert ack == {"ok": True, "room": f"offer:product:{product_id}"}

    order_id = client.post(
        "/api/v1/orders", json=order_body((product_id, 3)), headers=buyer_headers
    ).json["id"]
    assert stock_events(reader) == [
        {
            "kind": "product",
            "id": product_id,
            "state": "low",
            "stock": 1,
            "label": "Only 1 left",
            "badge": "low",
            "sold_out": False,
            "available": True,
        }
    ]
    client.post(f"/api/v1/orders/{order_id}/cancel", headers=buyer_headers)
    assert [(e["stock"], e["state"], e["badge"]) for e in stock_events(reader)] == [
        (4, "low", "low")
    ]
    client.patch(f"/api/v1/products/{product_id}", json={"stock": 0}, headers=shop.headers)
    last = stock_events(reader)[-1]
    assert last["sold_out"] is True and last["state"] == "sold_out" and last["badge"] == "out"
    client.delete(f"/api/v1/products/{product_id}", headers=shop.headers)
    last = stock_events(reader)[-1]
    assert last["available"] is False and last["state"] == "unavailable"
    reader.disconnect(namespace="/live")


def test_the_push_after_an_order_counts_expired_holds_as_buyable(
    app, client, shop, make_product, buyer_headers, make_user, token_for
):
    # The stock guard reads what is left in its own statement: the shelf plus holds that
    # expired and were not released yet (the shelf sufficed, so none was released).
    product_id = make_product(shop, stock=5)
    first = client.post("/api/v1/orders", json=order_body((product_id, 2)), headers=buyer_headers)
    assert first.status_code == 201
    reader = socketio.test_client(app, namespace="/live")
    reader.emit("watch", {"room": f"offer:product:{product_id}"}, namespace="/live", callback=True)
    late = token_for(make_user("latecomer"))
    with time_machine.travel(now() + timedelta(minutes=31), tick=False):
        placed = client.post("/api/v1/orders", json=order_body((product_id, 1)), headers=late)
        assert placed.status_code == 201, placed.json
        # shelf 5 - 2 - 1 = 2, plus the 2 units of the expired hold
        assert [(e["stock"], e["state"]) for e in stock_events(reader)] == [(4, "low")]
        assert client.get(f"/api/v1/products/{product_id}").json["stock"] == 4
        paid = client.post(
            f"/api/v1/orders/{first.json['id']}/pay",
            json={"provider": "sandbox"},
            headers=buyer_headers,
        )
        assert paid.status_code == 409 and paid.json["error"]["code"] == "order_expired"
    reader.disconnect(namespace="/live")


def test_refused_orders_announce_nothing(app, client, shop, make_product, buyer_headers):
    product_id = make_product(shop, stock=1)
    reader = socketio.test_client(app, namespace="/live")
    reader.emit("watch", {"room": f"offer:product:{product_id}"}, namespace="/live", callback=True)
    assert (
        client.post(
            "/api/v1/orders", json=order_body((product_id, 2)), headers=buyer_headers
        ).status_code
        == 409
    )
    assert stock_events(reader) == []
    reader.disconnect(namespace="/live")


def test_only_visible_offers_can_be_watched(app, client, shop, make_product):
    hidden = make_product(shop, "Draft", active=False)
    reader = socketio.test_client(app, namespace="/live")
    for room in (
        f"offer:product:{hidden}",
        "offer:product:999999",
        "offer:product:abc",
        "offer:snap:1",
        "offer:product:",
    ):
        ack = reader.emit("watch", {"room": room}, namespace="/live", callback=True)
        assert ack["error"]["code"] in ("forbidden", "invalid"), room
    reader.disconnect(namespace="/live")
