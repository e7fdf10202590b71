"""Commerce gates (forum.trust): off by default, a TL0 account may take every offer; with
a gate on, it is refused on every path (API and page) and nothing is written."""

from datetime import timedelta

import pytest
import time_machine

from forum.clock import now
from forum.promotions.models import AuctionSale, Guess
from tests.conftest import login
from tests.fixtures.shop import ADDRESS

from .conftest import promo_counts
from .games_helpers import at, count, make_auction, make_game, points_of, set_points

ACTS = ("snap", "auction", "guess", "team_start", "team_join")


@pytest.fixture
def offers(client, shop, product, make_snap, make_group_buy, make_user):
    snap = make_snap(product)
    auction = make_auction(client, shop, product, units=3)
    game = make_game(client, shop, product)
    group_buy = make_group_buy(product)
    leader = make_user("leader", trust_level=2)
    return {
        "snap": snap,
        "auction": auction,
        "game": game,
        "group_buy": group_buy,
        "leader": leader,
    }


def _team(client, offers, token_for) -> int:
    response = client.post(
        f"/api/v1/group-buys/{offers['group_buy']['id']}/teams",
        json={"shipping_address": ADDRESS},
        headers=token_for(offers["leader"]),
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _api(client, act, offers, headers, team_id):
    if act == "snap":
        return client.post(
            f"/api/v1/snaps/{offers['snap']['id']}/buy",
            json={"quantity": 1, "shipping_address": ADDRESS},
            headers=headers,
        )
    if act == "auction":
        return client.post(
            f"/api/v1/auctions/{offers['auction']['id']}/take",
            json={"shipping_address": ADDRESS},
            headers=headers,
        )
    if act == "guess":
        return client.post(
            f"/api/v1/guess-games/{offers['game']['id']}/guesses",
            json={"amount_cents": 125},
            headers=headers,
        )
    if act == "team_start":
        return client.post(
            f"/api/v1/group-buys/{offers['group_buy']['id']}/teams",
            json={"shipping_address": ADDRESS},
            headers=headers,
        )
    return client.post(
        f"/api/v1/teams/{team_id}/join", json={"shipping_address": ADDRESS}, headers=headers
    )


def _page(browser, act, offers, team_id):
    paths = {
        "snap": (f"/snaps/{offers['snap']['id']}/buy", {"quantity": "1"}),
        "auction": (f"/auctions/{offers['auction']['id']}/take", {}),
        "guess": (f"/guess-games/{offers['game']['id']}/guesses", {"amount_cents": "125"}),
        "team_start": (f"/group-buys/{offers['group_buy']['id']}/teams", {}),
        "team_join": (f"/teams/{team_id}/join", {}),
    }
    path, data = paths[act]
    return browser.post("/promotions" + path, data=data, follow_redirects=True)


GATES = {
    "snap": "TRUST_GATE_SNAP_LEVEL",
    "auction": "TRUST_GATE_AUCTION_LEVEL",
    "guess": "TRUST_GATE_GUESS_LEVEL",
    "team_start": "TRUST_GATE_TEAM_LEVEL",
    "team_join": "TRUST_GATE_TEAM_LEVEL",
}


def _written(app):
    return promo_counts(app), count(app, Guess), count(app, AuctionSale)


@pytest.mark.parametrize("path", ["api", "page"])
@pytest.mark.parametrize("act", ACTS)
def test_gate_on_refuses_a_tl0_account_and_writes_nothing(
    app, client, offers, make_user, token_for, act, path
):
    team_id = _team(client, offers, token_for) if act == "team_join" else None
    newcomer = make_user("newcomer", trust_level=0)
    set_points(app, newcomer.id, 500)
    app.config[GATES[act]] = 1
    before, points = _written(app), points_of(app, newcomer.id)
    with time_machine.travel(at(offers["auction"]["starts_at"]) + timedelta(seconds=1), tick=False):
        if path == "api":
            response = _api(client, act, offers, token_for(newcomer), team_id)
            assert response.status_code == 403
            assert response.json["error"]["code"] == "trust_level_required"
            assert "Trust level 1" in response.json["error"]["message"]
        else:
            browser = app.test_client()
            login(browser, newcomer)
            page = _page(browser, act, offers, team_id)
            assert "Trust level 1" in page.get_data(as_text=True)
    assert _written(app) == before
    assert points_of(app, newcomer.id) == points


@pytest.mark.parametrize("act", ACTS)
def test_gates_are_off_by_default_and_a_tl0_account_may_buy(
    app, client, offers, make_user, token_for, act
):
    team_id = _team(client, offers, token_for) if act == "team_join" else None
    newcomer = make_user("newcomer", trust_level=0)
    set_points(app, newcomer.id, 500)
    with time_machine.travel(at(offers["auction"]["starts_at"]) + timedelta(seconds=1), tick=False):
        response = _api(client, act, offers, token_for(newcomer), team_id)
    assert response.status_code in (200, 201), response.json


def test_account_age_gate(app, client, offers, make_user, token_for):
    app.config["TRUST_GATE_SNAP_AGE_DAYS"] = 3
    young = make_user("young", trust_level=3)  # the level alone does not pass an age gate
    response = _api(client, "snap", offers, token_for(young), None)
    assert response.status_code == 403
    assert "3 days old" in response.json["error"]["message"]
    with time_machine.travel(now() - timedelta(days=4), tick=False):
        veteran = make_user("veteran", trust_level=0)
    response = _api(client, "snap", offers, token_for(veteran), None)
    assert response.status_code == 201, response.json
