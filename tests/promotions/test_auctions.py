"""Dutch auctions with a controlled clock: the price at every drop, the floor, the start
and the end; taking at the server's price; limits across sessions and tokens; the payment
window returning the unit; the result posted back to the thread."""

from datetime import timedelta

import time_machine

from forum.board.models import Post
from forum.promotions.models import Auction, AuctionSale
from forum.promotions.tasks import finish_games
from forum.shop_embed.models import Order
from forum.shop_embed.tasks import expire_orders
from tests.conftest import login
from tests.shop_embed.conftest import ADDRESS

from .conftest import promo_counts
from .games_helpers import at, count, make_auction, rows


def read(client, auction_id):
    response = client.get(f"/api/v1/auctions/{auction_id}")
    assert response.status_code == 200
    return response.json


def test_the_price_falls_on_the_server_clock_to_the_floor_and_the_auction_ends(
    client, shop, product
):
    auction = make_auction(client, shop, product)
    start = at(auction["starts_at"])
    # 5000 -> 4500 -> 4000 -> 3800 (the floor, not 3500), then one last interval.
    assert at(auction["ends_at"]) == start + timedelta(minutes=4)
    expected = [
        (timedelta(seconds=-30), "upcoming", 5000, start + timedelta(minutes=1)),
        (timedelta(0), "live", 5000, start + timedelta(minutes=1)),
        (timedelta(seconds=59), "live", 5000, start + timedelta(minutes=1)),
        (timedelta(seconds=60), "live", 4500, start + timedelta(minutes=2)),
        (timedelta(seconds=119), "live", 4500, start + timedelta(minutes=2)),
        (timedelta(seconds=120), "live", 4000, start + timedelta(minutes=3)),
        (timedelta(seconds=180), "live", 3800, None),
        (timedelta(seconds=239), "live", 3800, None),
        (timedelta(seconds=240), "ended", 3800, None),
        (timedelta(days=2), "ended", 3800, None),
    ]
    for offset, state, price, drop in expected:
        with time_machine.travel(start + offset, tick=False):
            data = read(client, auction["id"])
            assert (data["state"], data["price_cents"]) == (state, price), offset
            assert data["next_drop_at"] == (drop.isoformat() if drop else None), offset
            assert data["price_cents"] >= data["floor_price_cents"] == 3800
            assert data["units_left"] == 3


def test_take_buys_one_unit_at_the_price_of_the_moment_never_a_client_price(
    app, client, shop, product, members
):
    auction = make_auction(client, shop, product, units=2)
    start = at(auction["starts_at"])
    (a, a_h), (b, b_h), (c, c_h) = members(3)
    with time_machine.travel(start - timedelta(seconds=5), tick=False):
        early = client.post(f"/api/v1/auctions/{auction['id']}/take", headers=a_h)
        assert early.status_code == 409 and early.json["error"]["code"] == "not_started"
    with time_machine.travel(start + timedelta(seconds=130), tick=False):
        taken = client.post(
            f"/api/v1/auctions/{auction['id']}/take",
            json={"shipping_address": ADDRESS},
            headers=a_h,
        )
        assert taken.status_code == 201, taken.json
        assert taken.json["items"][0]["unit_price_cents"] == 4000
        assert taken.json["status"] == "pending"
        # The pay window is the auction's: 10 minutes.
        assert at(taken.json["expires_at"]) == start + timedelta(seconds=130, minutes=10)
        data = read(client, auction["id"])
        assert data["units_left"] == 1 and data["last_sale"]["price_cents"] == 4000
    with time_machine.travel(start + timedelta(seconds=200), tick=False):
        second = client.post(f"/api/v1/auctions/{auction['id']}/take", headers=b_h)
        assert second.json["items"][0]["unit_price_cents"] == 3800
        before = promo_counts(app)
        sold_out = client.post(f"/api/v1/auctions/{auction['id']}/take", headers=c_h)
        assert sold_out.status_code == 409 and sold_out.json["error"]["code"] == "sold_out"
        assert promo_counts(app) == before  # a refusal writes nothing
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        late = client.post(f"/api/v1/auctions/{auction['id']}/take", headers=c_h)
        assert late.status_code == 409 and late.json["error"]["code"] == "ended"
    assert [s.price_cents for s in rows(app, AuctionSale)] == [4000, 3800]


def test_the_per_member_limit_holds_across_a_token_and_a_browser_session(
    app, client, shop, product, members
):
    auction = make_auction(client, shop, product, units=3, per_user_limit=1)
    (a, a_h), _ = members(2)
    browser = app.test_client()
    login(browser, a)
    with time_machine.travel(at(auction["starts_at"]) + timedelta(seconds=1), tick=False):
        assert client.post(f"/api/v1/auctions/{auction['id']}/take", headers=a_h).status_code == 201
        other_token = client.post(
            "/api/v1/auth/token", json={"username": a.username, "password": a.password}
        ).json["token"]
        again = client.post(
            f"/api/v1/auctions/{auction['id']}/take",
            headers={"Authorization": f"Bearer {other_token}"},
        )
        assert again.status_code == 409 and again.json["error"]["code"] == "limit_reached"
        page = browser.post(f"/promotions/auctions/{auction['id']}/take")
        assert page.status_code == 302 and "/promotions/auctions/" in page.headers["Location"]
    assert count(app, AuctionSale) == 1


def test_an_unpaid_unit_returns_after_the_payment_window_and_the_price_resumes(
    app, client, shop, product, members
):
    auction = make_auction(client, shop, product, units=1, per_user_limit=1)
    start = at(auction["starts_at"])
    (a, a_h), (b, b_h) = members(2)
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        first = client.post(f"/api/v1/auctions/{auction['id']}/take", headers=a_h)
        assert first.status_code == 201
        assert read(client, auction["id"])["units_left"] == 0
        refused = client.post(f"/api/v1/auctions/{auction['id']}/take", headers=b_h)
        assert refused.json["error"]["code"] == "sold_out"
    # Past the 10-minute window the auction is over too (it lasts 4 minutes): make a longer one.
    long = make_auction(
        client, shop, product, units=1, drop_cents=100, drop_every_seconds=300
    )  # 5000 -> 3800 in 12 drops of 5 minutes
    start = at(long["starts_at"])
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        assert client.post(f"/api/v1/auctions/{long['id']}/take", headers=a_h).status_code == 201
    with time_machine.travel(start + timedelta(minutes=10, seconds=11), tick=False):
        # Before any job: the lapsed unit counts as back, at the price the clock says now.
        data = read(client, long["id"])
        assert data["units_left"] == 1 and data["price_cents"] == 5000 - 2 * 100
        taken = client.post(f"/api/v1/auctions/{long['id']}/take", headers=b_h)
        assert taken.status_code == 201 and taken.json["items"][0]["unit_price_cents"] == 4800
        statuses = [o.status for o in rows(app, Order, Order.kind == "auction")]
        assert statuses == ["pending", "cancelled", "pending"]
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        assert expire_orders.delay().get() == 2  # both remaining unpaid orders
        auction_row = rows(app, Auction, Auction.id == long["id"])[0]
        assert auction_row.units_left == 1
        assert count(app, AuctionSale, AuctionSale.returned_at.is_(None)) == 0


def test_the_end_posts_a_line_back_to_the_thread(app, client, shop, product, members, make_thread):
    (a, a_h), (b, b_h) = members(2)
    auction = make_auction(client, shop, product, units=3, per_user_limit=1)
    thread_id = make_thread(a, "Auction time", f"Look: [[auction:{auction['id']}]]")
    start = at(auction["starts_at"])
    for headers, offset in ((a_h, 70), (b_h, 130)):
        with time_machine.travel(start + timedelta(seconds=offset), tick=False):
            order = client.post(
                f"/api/v1/auctions/{auction['id']}/take",
                json={"shipping_address": ADDRESS},
                headers=headers,
            ).json
            paid = client.post(
                f"/api/v1/orders/{order['id']}/pay", json={"provider": "sandbox"}, headers=headers
            )
            assert paid.json["status"] == "paid"
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        assert finish_games.delay().get() == 0  # still running: nothing to post
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        assert finish_games.delay().get() == 1
        assert finish_games.delay().get() == 0  # once
        bodies = [p.body for p in rows(app, Post, Post.thread_id == thread_id)]
        assert (
            bodies[-1]
            == "The Dutch auction for Trail shoes has ended: 2 units sold at 45.00-40.00."
        )
        assert read(client, auction["id"])["state"] == "ended"


def test_creating_and_ending_need_the_owning_merchant(client, shop, make_shop, product, members):
    ((a, a_h),) = members(1)
    body = {
        "product_id": product,
        "units": 2,
        "start_price_cents": 5000,
        "floor_price_cents": 6000,
        "drop_cents": 0,
        "drop_every_seconds": 1,
        "starts_at": "yesterday",
        "per_user_limit": 5,
    }
    bad = client.post("/api/v1/auctions", json=body, headers=shop.headers)
    assert bad.status_code == 422
    assert {
        "floor_price_cents",
        "drop_cents",
        "drop_every_seconds",
        "starts_at",
        "per_user_limit",
    } <= set(bad.json["error"]["fields"])
    assert client.post("/api/v1/auctions", json=body, headers=a_h).status_code == 403
    auction = make_auction(client, shop, product)
    other = make_shop("rival")
    assert (
        client.post(f"/api/v1/auctions/{auction['id']}/end", headers=other.headers).status_code
        == 403
    )
    assert client.post(f"/api/v1/auctions/{auction['id']}/end", headers=a_h).status_code == 403
    ended = client.post(f"/api/v1/auctions/{auction['id']}/end", headers=shop.headers)
    assert ended.status_code == 200 and ended.json["state"] == "ended"
    assert client.get("/api/v1/auctions/999999").status_code == 404


def test_the_widget_in_a_post_shows_price_units_and_countdown(
    client, shop, product, members, make_thread
):
    ((a, _),) = members(1)
    auction = make_auction(client, shop, product)
    thread_id = make_thread(a, "Auction", f"[[auction:{auction['id']}]]")
    with time_machine.travel(at(auction["starts_at"]) + timedelta(seconds=65), tick=False):
        page = client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert f'data-auction="{auction["id"]}"' in page
    assert 'data-live-room="offer:auction:' in page
    assert "$45.00" in page and "Next drop in 0m 55s" in page
    assert "<b data-units-left>3</b> of 3 left" in page
