"""The merchant's HTML pages for Dutch auctions, guessing games and ladder group-buys:
create (form errors change nothing), watch, end or close; another shop gets 404, a
member 403."""

from datetime import timedelta

from sqlalchemy import func, select

from forum.extensions import db
from forum.promotions.models import Auction, GroupBuy, GuessGame
from tests.conftest import app_context, login

from .games_helpers import make_auction, make_game
from .test_pages import local


def auction_form(product: int, **changes: str) -> dict:
    return {
        "product_id": str(product),
        "units": "3",
        "start_price_cents": "80.00",
        "floor_price_cents": "40.00",
        "drop_cents": "1.00",
        "drop_every_seconds": "60",
        "starts_at": local(timedelta(minutes=-1)),
        "per_user_limit": "1",
        **changes,
    }


def game_form(product: int, **changes: str) -> dict:
    return {
        "product_id": str(product),
        "market_price_cents": "89.00",
        "points_per_guess": "10",
        "max_guesses_per_user": "3",
        "ends_at": local(timedelta(hours=3)),
        **changes,
    }


def offers(app) -> dict:
    with app_context(app):
        db.session.remove()
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Auction, GuessGame, GroupBuy)
        }


def merchant_client(app, user):
    browser = app.test_client()
    login(browser, user)
    return browser


def test_a_merchant_creates_watches_and_ends_an_auction_from_the_pages(app, client, shop, product):
    merchant = merchant_client(app, shop.user)
    page = merchant.get("/promotions/merchant/auctions/new").get_data(as_text=True)
    assert "Trail shoes (50 in stock)" in page and 'name="starts_at"' in page
    before = offers(app)
    for changes, message in (
        ({"floor_price_cents": "90.00"}, "The floor must be below the start price."),
        ({"start_price_cents": "95.00"}, "below the product"),
        ({"units": "99999999"}, "units"),
        ({"start_price_cents": "1e9"}, ""),
        ({"drop_cents": "<script>"}, ""),
        ({"starts_at": "yesterday"}, ""),
        ({"product_id": "999999"}, ""),
    ):
        bad = merchant.post(
            "/promotions/merchant/auctions/new", data=auction_form(product, **changes)
        )
        assert bad.status_code == 422, changes
        assert message in bad.get_data(as_text=True)
        assert "<script>" not in bad.get_data(as_text=True)
    assert offers(app) == before

    made = merchant.post(
        "/promotions/merchant/auctions/new", data=auction_form(product), follow_redirects=True
    )
    text = made.get_data(as_text=True)
    assert (
        made.status_code == 200
        and "Dutch auction created. Embed it anywhere with [[auction:" in text
    )
    auction_id = _only_id(app, Auction)
    assert "data-watch-left>3<" in text and "Live" in text
    listing = merchant.get("/promotions/merchant").get_data(as_text=True)
    assert f"[[auction:{auction_id}]]" in listing
    assert client.get(f"/api/v1/auctions/{auction_id}").json["state"] == "live"
    ended = merchant.post(f"/promotions/merchant/auctions/{auction_id}/end", follow_redirects=True)
    assert "The auction has ended" in ended.get_data(as_text=True)
    assert client.get(f"/api/v1/auctions/{auction_id}").json["state"] == "ended"


def _only_id(app, model) -> int:
    with app_context(app):
        return db.session.scalar(select(model.id))


def test_a_merchant_creates_and_closes_a_guessing_game_from_the_pages(app, client, shop, product):
    merchant = merchant_client(app, shop.user)
    before = offers(app)
    for changes in (
        {"max_guesses_per_user": "0"},
        {"points_per_guess": "-5"},
        {"market_price_cents": "lots"},
        {"ends_at": local(timedelta(days=-1))},
        {"max_guesses_per_user": "9" * 30},
    ):
        bad = merchant.post(
            "/promotions/merchant/guess-games/new", data=game_form(product, **changes)
        )
        assert bad.status_code == 422, changes
    assert offers(app) == before
    made = merchant.post(
        "/promotions/merchant/guess-games/new", data=game_form(product), follow_redirects=True
    )
    assert "Guessing game created. Embed it anywhere with [[guess:" in made.get_data(as_text=True)
    game_id = _only_id(app, GuessGame)
    assert client.get(f"/api/v1/guess-games/{game_id}").json["state"] == "open"
    closed = merchant.post(
        f"/promotions/merchant/guess-games/{game_id}/close", follow_redirects=True
    )
    assert "The game is closed" in closed.get_data(as_text=True)
    game = client.get(f"/api/v1/guess-games/{game_id}").json
    assert game["state"] == "closed" and game["winner"] is None


def test_a_merchant_creates_a_ladder_from_the_group_buy_form(app, client, shop, product):
    merchant = merchant_client(app, shop.user)
    base = {
        "product_id": str(product),
        "group_price_cents": "",
        "team_size": "",
        "team_window_minutes": "60",
        "ends_at": local(timedelta(days=2)),
    }
    before = offers(app)
    for steps, message in (
        ("2 = 70.00\nthree = 60.00", "Line 2: write it as team size = price"),
        ("2 = 70.00\n3 = abc", "Line 2:"),
        ("3 = 60.00\n2 = 70.00", ""),
        ("\n".join(f"{n} = {80 - n}.00" for n in range(2, 14)), "At most 10 steps."),
    ):
        bad = merchant.post("/promotions/merchant/group-buys/new", data={**base, "steps": steps})
        assert bad.status_code == 422, steps
        page = bad.get_data(as_text=True)
        assert message in page
        assert "three = 60.00" in page or "three" not in steps  # what was typed comes back
    no_price = merchant.post("/promotions/merchant/group-buys/new", data=base)
    assert no_price.status_code == 422
    assert offers(app) == before
    made = merchant.post(
        "/promotions/merchant/group-buys/new",
        data={**base, "steps": "2 = 70.00\n3 = 60.00\n5 = 50.00"},
    )
    assert made.status_code == 302
    group_buy = client.get(f"/api/v1/group-buys/{_only_id(app, GroupBuy)}").json
    assert group_buy["steps"] == [
        {"team_size": 2, "price_cents": 7000},
        {"team_size": 3, "price_cents": 6000},
        {"team_size": 5, "price_cents": 5000},
    ]
    assert (group_buy["team_size"], group_buy["group_price_cents"]) == (5, 7000)


def test_another_shop_gets_404_and_a_member_403_on_auction_and_game_pages(
    app, client, shop, product, make_shop, members
):
    auction = make_auction(client, shop, product)
    game = make_game(client, shop, product)
    rival = merchant_client(app, make_shop("rival").user)
    ((member, _),) = members(1)
    outsider = merchant_client(app, member)
    for url in (
        f"/promotions/merchant/auctions/{auction['id']}",
        f"/promotions/merchant/guess-games/{game['id']}",
    ):
        assert rival.get(url).status_code == 404
        assert outsider.get(url).status_code == 403
    for url in (
        f"/promotions/merchant/auctions/{auction['id']}/end",
        f"/promotions/merchant/guess-games/{game['id']}/close",
        "/promotions/merchant/auctions/999999/end",
    ):
        assert rival.post(url).status_code == 404
        assert outsider.post(url).status_code == 403
    for url in ("/promotions/merchant/auctions/new", "/promotions/merchant/guess-games/new"):
        assert outsider.get(url).status_code == 403
    # The rival's product list holds only its own products, and another shop's product is refused.
    refused = rival.post("/promotions/merchant/auctions/new", data=auction_form(product))
    assert refused.status_code == 422
    assert client.get(f"/api/v1/auctions/{auction['id']}").json["state"] == "upcoming"
    assert client.get(f"/api/v1/guess-games/{game['id']}").json["state"] == "open"
