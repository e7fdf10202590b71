"""A merchant changes a Dutch auction before its start, or a guessing game before its first
guess (PATCH /api/v1/auctions/{id}, /api/v1/guess-games/{id} and the merchant's edit
pages): the same checks as create, its shop or an admin only, 409 ``started`` once live,
and a refused edit changes nothing. Kept widget states and watchers see the new terms."""

from datetime import timedelta

import time_machine

from forum.clock import now
from forum.promotions.models import Auction, GuessGame, Reminder

from .games_helpers import at, give_points, make_auction, make_game, points_of, rows
from .test_merchant_games import merchant_client
from .test_pages import local
from .test_widget_shells import widget
from .test_widgets import received, watch


def later(**delta) -> str:
    return (now() + timedelta(**delta)).isoformat()


def auction_row(app, auction_id: int) -> tuple:
    (row,) = rows(app, Auction, Auction.id == auction_id)
    return tuple(
        getattr(row, name)
        for name in (
            "units",
            "units_left",
            "start_price_cents",
            "floor_price_cents",
            "drop_cents",
            "drop_every_seconds",
            "per_user_limit",
            "starts_at",
            "ends_at",
        )
    )


def game_row(app, game_id: int) -> tuple:
    (row,) = rows(app, GuessGame, GuessGame.id == game_id)
    return (
        row.market_price_cents,
        row.points_per_guess,
        row.max_guesses_per_user,
        row.ends_at,
        row.guesses_count,
    )


def test_a_merchant_changes_an_upcoming_auction_and_watchers_and_widgets_follow(
    app, client, shop, product, members, make_thread, make_user
):
    auction = make_auction(client, shop, product, starts_at=later(minutes=10))
    thread_id = make_thread(make_user("fan"), title="Soon", body=f"[[auction:{auction['id']}]]")
    ((member, member_h),) = members(1)
    reminded = client.post(
        "/api/v1/reminders", json={"kind": "auction", "id": auction["id"]}, headers=member_h
    )
    assert reminded.status_code == 201
    for _ in range(2):  # the widget's state is kept now
        card = widget(client.get(f"/t/{thread_id}").get_data(as_text=True), 'data-auction="')
    assert "$50.00" in card and "data-units-left>3<" in card
    reader = watch(app, f"offer:auction:{auction['id']}")

    new_start = now().replace(microsecond=0) + timedelta(minutes=30)
    changed = client.patch(
        f"/api/v1/auctions/{auction['id']}",
        json={
            "start_price_cents": 6000,
            "floor_price_cents": 4000,
            "drop_cents": 250,
            "drop_every_seconds": 30,
            "units": 5,
            "per_user_limit": 2,
            "starts_at": new_start.isoformat(),
        },
        headers=shop.headers,
    )
    assert changed.status_code == 200, changed.json
    body = changed.json
    assert (body["start_price_cents"], body["floor_price_cents"], body["drop_cents"]) == (
        6000,
        4000,
        250,
    )
    assert (body["units"], body["units_left"], body["per_user_limit"]) == (5, 5, 2)
    assert at(body["starts_at"]) == new_start
    # Ends one interval after it reaches the floor: 8 drops of 30 s, plus one.
    assert at(body["ends_at"]) == new_start + timedelta(seconds=9 * 30)
    assert client.get(f"/api/v1/auctions/{auction['id']}").json["units_left"] == 5

    pushed = received(reader, "auction_state")
    assert [(p["start_price_cents"], p["units_left"]) for p in pushed] == [(6000, 5)]
    reader.disconnect(namespace="/live")
    card = widget(client.get(f"/t/{thread_id}").get_data(as_text=True), 'data-auction="')
    assert "$60.00" in card and "data-units-left>5<" in card and "$50.00" not in card
    # Only the terms sent change; the member's reminder moved with the start.
    again = client.patch(
        f"/api/v1/auctions/{auction['id']}", json={"units": 4}, headers=shop.headers
    )
    assert again.status_code == 200 and again.json["start_price_cents"] == 6000
    (reminder,) = rows(app, Reminder, Reminder.offer_id == auction["id"])
    assert reminder.remind_at == new_start


def test_a_merchant_changes_a_game_before_its_first_guess_then_it_is_started(
    app, client, shop, product, members
):
    game = make_game(client, shop, product, points_per_guess=10)
    ((member, member_h),) = members(1)
    give_points(app, member.id, 100)
    wallet = points_of(app, member.id)
    closes = now().replace(microsecond=0) + timedelta(hours=5)
    changed = client.patch(
        f"/api/v1/guess-games/{game['id']}",
        json={
            "market_price_cents": 5000,
            "points_per_guess": 20,
            "max_guesses_per_user": 2,
            "ends_at": closes.isoformat(),
        },
        headers=shop.headers,
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["market_price_cents"], changed.json["points_per_guess"]) == (5000, 20)
    assert at(changed.json["ends_at"]) == closes
    # A guess now plays by the new terms: the new price bounds it, it costs the new points.
    over = client.post(
        f"/api/v1/guess-games/{game['id']}/guesses", json={"amount_cents": 6000}, headers=member_h
    )
    assert over.status_code == 422
    guessed = client.post(
        f"/api/v1/guess-games/{game['id']}/guesses", json={"amount_cents": 123}, headers=member_h
    )
    assert guessed.status_code == 201
    assert points_of(app, member.id) == wallet - 20
    before = game_row(app, game["id"])
    late = client.patch(
        f"/api/v1/guess-games/{game['id']}", json={"points_per_guess": 1}, headers=shop.headers
    )
    assert late.status_code == 409 and late.json["error"]["code"] == "started"
    assert game_row(app, game["id"]) == before


def test_a_live_or_taken_auction_cannot_be_changed(app, client, shop, product, members):
    auction = make_auction(client, shop, product)  # starts in a minute
    ((member, member_h),) = members(1)
    before = auction_row(app, auction["id"])
    with time_machine.travel(at(auction["starts_at"]) + timedelta(seconds=5), tick=False):
        live = client.patch(
            f"/api/v1/auctions/{auction['id']}", json={"units": 2}, headers=shop.headers
        )
        assert live.status_code == 409 and live.json["error"]["code"] == "started"
        assert (
            client.post(f"/api/v1/auctions/{auction['id']}/take", headers=member_h).status_code
            == 201
        )
    assert auction_row(app, auction["id"])[0] == before[0]
    ended = make_auction(client, shop, product, starts_at=later(hours=1))
    client.post(f"/api/v1/auctions/{ended['id']}/end", headers=shop.headers)
    refused = client.patch(
        f"/api/v1/auctions/{ended['id']}", json={"units": 2}, headers=shop.headers
    )
    assert refused.status_code == 409


def test_bad_values_are_refused_as_create_refuses_them_and_change_nothing(
    app, client, shop, product
):
    auction = make_auction(client, shop, product, starts_at=later(minutes=10))
    game = make_game(client, shop, product)
    auction_before, game_before = auction_row(app, auction["id"]), game_row(app, game["id"])
    for changes, field in (
        ({"floor_price_cents": 5000}, "floor_price_cents"),  # not below the start price
        ({"start_price_cents": 9900}, "start_price_cents"),  # not below the product's price
        ({"units": 0}, "units"),
        ({"units": 51}, "units"),  # more than the shelf holds
        ({"per_user_limit": 4}, "per_user_limit"),  # more than the units
        ({"drop_every_seconds": 1}, "drop_every_seconds"),
        ({"starts_at": "soon"}, "starts_at"),
        ({"starts_at": later(days=120)}, "starts_at"),
        ({"units": "3"}, "units"),  # strict types, as create
        ({"units": None}, "units"),
        ({"product_id": product}, "product_id"),  # an offer keeps its product
        ({"ends_at": later(days=1)}, "ends_at"),  # computed, never set
    ):
        bad = client.patch(f"/api/v1/auctions/{auction['id']}", json=changes, headers=shop.headers)
        assert bad.status_code == 422, (changes, bad.json)
        assert field in bad.json["error"]["fields"], (changes, bad.json)
    for changes, field in (
        ({"max_guesses_per_user": 0}, "max_guesses_per_user"),
        ({"points_per_guess": -1}, "points_per_guess"),
        ({"market_price_cents": 0}, "market_price_cents"),
        ({"ends_at": later(minutes=-5)}, "ends_at"),
        ({"ends_at": "2030-01-01T00:00:00"}, "ends_at"),  # no offset
        ({"winner": "me"}, "winner"),
    ):
        bad = client.patch(f"/api/v1/guess-games/{game['id']}", json=changes, headers=shop.headers)
        assert bad.status_code == 422, (changes, bad.json)
        assert field in bad.json["error"]["fields"], (changes, bad.json)
    assert auction_row(app, auction["id"]) == auction_before
    assert game_row(app, game["id"]) == game_before


def test_only_its_shop_or_an_admin_may_change_an_offer(
    app, client, shop, product, make_shop, members, make_user, token_for
):
    auction = make_auction(client, shop, product, starts_at=later(minutes=10))
    game = make_game(client, shop, product)
    rival = make_shop("rival")
    ((member, member_h),) = members(1)
    auction_before, game_before = auction_row(app, auction["id"]), game_row(app, game["id"])
    for headers, status in ((rival.headers, 403), (member_h, 403), ({}, 401)):
        for url, body in (
            (f"/api/v1/auctions/{auction['id']}", {"units": 2}),
            (f"/api/v1/guess-games/{game['id']}", {"points_per_guess": 1}),
        ):
            refused = client.patch(url, json=body, headers=headers)
            assert refused.status_code == status, (url, headers, refused.json)
    for url in ("/api/v1/auctions/999999", "/api/v1/guess-games/999999"):
        assert client.patch(url, json={}, headers=shop.headers).status_code == 404
    assert auction_row(app, auction["id"]) == auction_before
    assert game_row(app, game["id"]) == game_before
    admin = token_for(make_user("boss", role="admin"))
    done = client.patch(f"/api/v1/auctions/{auction['id']}", json={"units": 2}, headers=admin)
    assert done.status_code == 200 and done.json["units"] == 2


def test_the_merchant_edit_pages_prefill_show_errors_and_refuse_others(
    app, client, shop, product, make_shop, members
):
    auction = make_auction(client, shop, product, starts_at=later(minutes=10))
    game = make_game(client, shop, product)
    merchant = merchant_client(app, shop.user)
    watch_page = merchant.get(f"/promotions/merchant/auctions/{auction['id']}").get_data(
        as_text=True
    )
    assert f"/promotions/merchant/auctions/{auction['id']}/edit" in watch_page
    url = f"/promotions/merchant/auctions/{auction['id']}/edit"
    form = merchant.get(url).get_data(as_text=True)
    assert 'value="50.00"' in form and 'name="product_id"' not in form and "Save changes" in form
    fields = {
        "units": "4",
        "start_price_cents": "60.00",
        "floor_price_cents": "40.00",
        "drop_cents": "1.00",
        "drop_every_seconds": "60",
        "starts_at": local(timedelta(hours=2)),
        "per_user_limit": "1",
    }
    before = auction_row(app, auction["id"])
    bad = merchant.post(url, data={**fields, "floor_price_cents": "70.00"})
    assert bad.status_code == 422
    assert "The floor must be below the start price." in bad.get_data(as_text=True)
    assert auction_row(app, auction["id"]) == before
    saved = merchant.post(url, data=fields, follow_redirects=True)
    assert "Dutch auction changed." in saved.get_data(as_text=True)
    assert auction_row(app, auction["id"])[:3] == (4, 4, 6000)

    game_url = f"/promotions/merchant/guess-games/{game['id']}/edit"
    saved = merchant.post(
        game_url,
        data={
            "market_price_cents": "70.00",
            "points_per_guess": "5",
            "max_guesses_per_user": "4",
            "ends_at": local(timedelta(hours=6)),
        },
        follow_redirects=True,
    )
    assert "Guessing game changed." in saved.get_data(as_text=True)
    assert game_row(app, game["id"])[:3] == (7000, 5, 4)

    rival = merchant_client(app, make_shop("rival").user)
    ((member, member_h),) = members(1)
    outsider = merchant_client(app, member)
    for page in (url, game_url):
        assert (
            rival.get(page).status_code == 404 and rival.post(page, data=fields).status_code == 404
        )
        assert outsider.get(page).status_code == 403
        assert outsider.post(page, data=fields).status_code == 403
    # Once a guess exists the page sends the merchant back to the watch page.
    give_points(app, member.id, 100)
    client.post(
        f"/api/v1/guess-games/{game['id']}/guesses", json={"amount_cents": 50}, headers=member_h
    )
    back = merchant.get(game_url, follow_redirects=True).get_data(as_text=True)
    assert "has started: it can no longer be changed." in back
    assert f"{game['id']}/edit" not in back
