"""Ladder group-buys: steps by team size, joiners placed at the step reached, everyone pays
the lowest step at the close, and whoever paid more is refunded the difference."""

from datetime import timedelta

import time_machine

from forum.clock import now
from forum.promotions.models import Team
from forum.promotions.tasks import settle_teams
from forum.shop_embed.models import Order, OrderEvent, Payment
from tests.shop_embed.conftest import ADDRESS

from .games_helpers import rows

STEPS = [
    {"team_size": 2, "price_cents": 1500},
    {"team_size": 3, "price_cents": 1300},
    {"team_size": 5, "price_cents": 1100},
]


def make_ladder(client, shop, product, **fields):
    body = {
        "product_id": product,
        "team_window_minutes": 60,
        "ends_at": (now() + timedelta(days=2)).isoformat(),
        "steps": STEPS,
        **fields,
    }
    response = client.post("/api/v1/group-buys", json=body, headers=shop.headers)
    assert response.status_code == 201, response.json
    return response.json


def join(client, team_id, headers, pay=False):
    response = client.post(
        f"/api/v1/teams/{team_id}/join", json={"shipping_address": ADDRESS}, headers=headers
    )
    assert response.status_code == 200, response.json
    if pay:
        order_id = client.get(f"/api/v1/teams/{team_id}", headers=headers).json["my_order_id"]
        paid = client.post(
            f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=headers
        )
        assert paid.status_code == 200, paid.json
    return response.json


def test_a_ladder_takes_its_size_and_price_from_its_steps(client, shop, product):
    ladder = make_ladder(client, shop, product)
    assert (ladder["team_size"], ladder["group_price_cents"], ladder["steps"]) == (5, 1500, STEPS)
    for bad in (
        [{"team_size": 2, "price_cents": 1500}],
        [{"team_size": 3, "price_cents": 1500}, {"team_size": 2, "price_cents": 1300}],
        [{"team_size": 2, "price_cents": 1300}, {"team_size": 3, "price_cents": 1500}],
        [{"team_size": 2, "price_cents": 9500}, {"team_size": 3, "price_cents": 9000}],
        [{"team_size": 1, "price_cents": 1500}, {"team_size": 3, "price_cents": 1300}],
    ):
        response = client.post(
            "/api/v1/group-buys",
            json={
                "product_id": product,
                "team_window_minutes": 60,
                "ends_at": (now() + timedelta(days=1)).isoformat(),
                "steps": bad,
            },
            headers=shop.headers,
        )
        assert response.status_code == 422 and "steps" in response.json["error"]["fields"], bad
    mismatch = client.post(
        "/api/v1/group-buys",
        json={
            "product_id": product,
            "team_size": 4,
            "team_window_minutes": 60,
            "ends_at": (now() + timedelta(days=1)).isoformat(),
            "steps": STEPS,
        },
        headers=shop.headers,
    )
    assert mismatch.status_code == 422 and "team_size" in mismatch.json["error"]["fields"]


def test_everyone_pays_the_lowest_step_reached_and_prepaid_members_get_the_difference_back(
    app, client, shop, product, members, make_thread
):
    ladder = make_ladder(client, shop, product)
    people = members(4)
    (lead, lead_h) = people[0]
    team = client.post(
        f"/api/v1/group-buys/{ladder['id']}/teams",
        json={"shipping_address": ADDRESS},
        headers=lead_h,
    ).json
    assert team["price_cents"] == 1500 and team["status"] == "forming"
    lead_order = client.get(f"/api/v1/teams/{team['team_id']}", headers=lead_h).json["my_order_id"]
    paid = client.post(
        f"/api/v1/orders/{lead_order}/pay", json={"provider": "sandbox"}, headers=lead_h
    )
    assert paid.status_code == 200
    assert join(client, team["team_id"], people[1][1], pay=True)["price_cents"] == 1500
    assert join(client, team["team_id"], people[2][1])["price_cents"] == 1300
    assert join(client, team["team_id"], people[3][1])["price_cents"] == 1300
    # The widget shows the steps and which one the team stands on.
    thread = make_thread(lead, "Ladder", f"[[groupbuy:{ladder['id']}]]")
    page = client.get(f"/t/{thread}").get_data(as_text=True)
    assert 'class="ladder-step is-reached is-current" aria-current="step"' in page
    with time_machine.travel(now() + timedelta(minutes=61), tick=False):
        assert settle_teams.delay().get() == 1
        assert client.get(f"/api/v1/teams/{team['team_id']}").json["status"] == "succeeded"
        assert rows(app, Team)[0].status == "succeeded"
        orders = rows(app, Order, Order.kind == "groupbuy")
        assert [o.subtotal_cents for o in orders] == [1300] * 4  # 4 members: the 3-step price
        assert [o.status for o in orders] == ["paid", "paid", "pending", "pending"]
        refunds = rows(app, Payment, Payment.status == "refunded")
        assert sorted((p.order_id, p.amount_cents) for p in refunds) == [
            (orders[0].id, 200),
            (orders[1].id, 200),
        ]
        lowered = rows(app, OrderEvent, OrderEvent.type == "price_lowered")
        assert sorted(e.params["refunded_cents"] for e in lowered) == [200, 200]


def test_a_full_ladder_closes_at_once_and_one_below_the_first_step_fails(
    app, client, shop, product, members
):
    ladder = make_ladder(client, shop, product)
    people = members(6)
    team = client.post(
        f"/api/v1/group-buys/{ladder['id']}/teams",
        json={"shipping_address": ADDRESS},
        headers=people[0][1],
    ).json
    for _, headers in people[1:5]:
        last = join(client, team["team_id"], headers)
    assert last["status"] == "succeeded" and last["price_cents"] == 1100
    assert [o.subtotal_cents for o in rows(app, Order, Order.kind == "groupbuy")] == [1100] * 5
    lonely = client.post(
        f"/api/v1/group-buys/{ladder['id']}/teams",
        json={"shipping_address": ADDRESS},
        headers=people[5][1],
    ).json
    with time_machine.travel(now() + timedelta(minutes=61), tick=False):
        assert client.get(f"/api/v1/teams/{lonely['team_id']}").json["status"] == "failed"
        settle_teams.delay().get()
        assert rows(app, Order, Order.buyer_id == people[5][0].id)[0].status == "cancelled"
