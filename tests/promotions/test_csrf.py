"""With CSRF on (as in production), cookie-session calls need the page's token; bearer tokens do not."""

import re

import pytest

from .conftest import promo_counts


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def test_joining_and_buying_with_a_cookie_session_need_the_token(
    app, product, make_group_buy, make_snap, members
):
    group_buy = make_group_buy(product)
    snap = make_snap(product)
    ((user, _),) = members(1)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login", data={"username": user.username, "password": user.password, "csrf_token": token}
    )
    before = promo_counts(app)
    for url, body in (
        (f"/api/v1/group-buys/{group_buy['id']}/teams", {}),
        (f"/api/v1/snaps/{snap['id']}/buy", {"quantity": 1}),
    ):
        refused = client.post(url, json=body)
        assert refused.status_code == 403 and refused.json["error"]["code"] == "csrf_failed"
    form = client.post(f"/promotions/snaps/{snap['id']}/buy", data={"quantity": "1"})
    assert form.status_code == 400
    assert promo_counts(app) == before

    meta = client.get(f"/promotions/snaps/{snap['id']}").get_data(as_text=True)
    page_token = re.search(r'<meta name="csrf-token" content="([^"]+)"', meta).group(1)
    bought = client.post(
        f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 1}, headers={"X-CSRFToken": page_token}
    )
    assert bought.status_code == 201
    started = client.post(
        f"/api/v1/group-buys/{group_buy['id']}/teams", headers={"X-CSRFToken": page_token}
    )
    assert started.status_code == 201


def test_the_merchants_auction_and_game_forms_need_the_pages_token(app, shop, product):
    from .test_merchant_games import auction_form, game_form, offers

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login",
        data={"username": shop.user.username, "password": shop.user.password, "csrf_token": token},
    )
    for url, body in (
        ("/promotions/merchant/auctions/new", auction_form(product)),
        ("/promotions/merchant/guess-games/new", game_form(product)),
    ):
        before = offers(app)
        assert client.post(url, data=body).status_code == 400
        assert offers(app) == before
        form = client.get(url).get_data(as_text=True)
        page_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        assert client.post(url, data={**body, "csrf_token": page_token}).status_code == 302
    made = offers(app)
    assert (made["promo_auctions"], made["promo_guess_games"]) == (1, 1)
