"""Group-buys through the API: creating, starting and joining teams, every refusal, success."""

from sqlalchemy import select

from forum.extensions import db
from forum.notifications.models import Notification
from forum.shop_embed.models import Order, OrderItem
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS, conservation

from .conftest import later, promo_counts


def start(client, group_buy_id, headers, **extra):
    extra.setdefault("json", {"shipping_address": ADDRESS})
    return client.post(f"/api/v1/group-buys/{group_buy_id}/teams", headers=headers, **extra)


def join(client, team_id, headers, **extra):
    extra.setdefault("json", {"shipping_address": ADDRESS})
    return client.post(f"/api/v1/teams/{team_id}/join", headers=headers, **extra)


# --- creating ------------------------------------------------------------------------


def test_merchant_creates_a_group_buy(client, shop, product):
    response = client.post(
        "/api/v1/group-buys",
        json={
            "product_id": product,
            "group_price_cents": 5900,
            "team_size": 2,
            "team_window_minutes": 1440,
            "ends_at": later(days=2),
        },
        headers=shop.headers,
    )
    assert response.status_code == 201, response.json
    data = response.json
    assert data["product"]["id"] == product and data["product"]["price_cents"] == 8900
    assert (data["group_price_cents"], data["team_size"], data["team_window_minutes"]) == (
        5900,
        2,
        1440,
    )
    assert data["state"] == "open" and data["teams"] == [] and data["currency"] == "USD"
    assert client.get(f"/api/v1/group-buys/{data['id']}").json["id"] == data["id"]


def test_bad_group_buys_are_refused_with_fields_and_nothing_written(
    app, client, shop, product, make_shop, make_product
):
    other = make_product(make_shop("rival"), "Rival thing", price_cents=1000)
    before = promo_counts(app)
    cases = [
        ({"group_price_cents": 8900}, "group_price_cents"),  # not below the product price
        ({"group_price_cents": -1}, "group_price_cents"),
        ({"team_size": 1}, "team_size"),
        ({"team_size": 11}, "team_size"),
        ({"team_window_minutes": 2}, "team_window_minutes"),
        ({"team_window_minutes": 60 * 24 * 8}, "team_window_minutes"),
        ({"ends_at": later(hours=-1)}, "ends_at"),
        ({"ends_at": later(days=200)}, "ends_at"),
        ({"ends_at": "2030-01-01T10:00:00"}, "ends_at"),  # no offset
        ({"ends_at": "soon"}, "ends_at"),
        ({"product_id": other}, "product_id"),  # another shop's product
        ({"product_id": 999999}, "product_id"),
    ]
    for change, field in cases:
        body = {
            "product_id": product,
            "group_price_cents": 5900,
            "team_size": 3,
            "team_window_minutes": 60,
            "ends_at": later(days=1),
            **change,
        }
        response = client.post("/api/v1/group-buys", json=body, headers=shop.headers)
        assert response.status_code == 422, (change, response.json)
        assert field in response.json["error"]["fields"], (change, response.json)
    bad_types = client.post(
        "/api/v1/group-buys", json={"product_id": "1", "team_size": 3.5}, headers=shop.headers
    )
    assert bad_types.status_code == 422
    assert promo_counts(app) == before


def test_only_merchants_create_group_buys(client, product, buyer_headers):
    body = {
        "product_id": product,
        "group_price_cents": 100,
        "team_size": 2,
        "team_window_minutes": 60,
        "ends_at": later(days=1),
    }
    assert client.post("/api/v1/group-buys", json=body).status_code == 401
    response = client.post("/api/v1/group-buys", json=body, headers=buyer_headers)
    assert response.status_code == 403


# --- teams ---------------------------------------------------------------------------


def test_start_a_team_places_a_held_order_at_the_group_price(
    app, client, product, make_group_buy, buyer, buyer_headers
):
    group_buy = make_group_buy(product)
    response = start(client, group_buy["id"], buyer_headers)
    assert response.status_code == 201, response.json
    team = response.json
    assert team["status"] == "forming" and team["members"] == 1 and team["size"] == 3
    assert team["share_url"].endswith(f"/promotions/teams/{team['team_id']}")
    assert team["member_list"][0]["username"] == "buyer"
    with app_context(app):
        order = db.session.get(Order, team["my_order_id"])
        assert (order.kind, order.status, order.buyer_id) == ("groupbuy", "held", buyer.id)
        assert order.items[0].unit_price_cents == 5900
        assert order.expires_at.isoformat() == team["expires_at"]
    # The held order has taken its unit off the shelf; nobody can cancel or ship it meanwhile.
    assert conservation(app, product, 50) == {"remaining": 49, "sold": 0, "held": 1}
    cancel = client.post(f"/api/v1/orders/{team['my_order_id']}/cancel", headers=buyer_headers)
    assert cancel.status_code == 409 and cancel.json["error"]["code"] == "order_held"
    read = client.get(f"/api/v1/teams/{team['team_id']}").json
    assert (read["status"], read["members"], read["expires_at"]) == (
        "forming",
        1,
        team["expires_at"],
    )


def test_team_fills_and_every_order_is_confirmed_at_once(
    app, client, product, make_group_buy, members
):
    group_buy = make_group_buy(product, team_size=3)
    (leader, leader_h), (second, second_h), (third, third_h), (late, late_h) = members(4)
    team_id = start(client, group_buy["id"], leader_h).json["team_id"]
    # The leader pays in advance (sandbox): the order stays held until the team fills.
    leader_order = client.get(f"/api/v1/teams/{team_id}", headers=leader_h).json["my_order_id"]
    prepaid = client.post(
        f"/api/v1/orders/{leader_order}/pay", json={"provider": "sandbox"}, headers=leader_h
    )
    assert prepaid.status_code == 200 and prepaid.json["status"] == "held"
    assert prepaid.json["payment"]["status"] == "succeeded"

    joined = join(client, team_id, second_h)
    assert joined.status_code == 200 and joined.json["status"] == "forming"
    assert joined.json["members"] == 2 and joined.json["seats_left"] == 1
    filled = join(client, team_id, third_h)
    assert filled.status_code == 200
    assert filled.json["status"] == "succeeded" and filled.json["members"] == 3

    with app_context(app):
        orders = db.session.scalars(select(Order).order_by(Order.id)).all()
        assert [(o.buyer_id, o.status) for o in orders] == [
            (leader.id, "paid"),  # prepaid: confirmed and paid
            (second.id, "pending"),  # now has its payment window
            (third.id, "pending"),
        ]
        assert all(o.total_cents == 5900 for o in orders)  # free shipping from 50.00
        assert all(o.expires_at is not None for o in orders[1:])
        told = db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "team_succeeded")
        ).all()
        assert sorted(told) == sorted([leader.id, second.id])  # the joiner saw it themselves
    assert conservation(app, product, 50) == {"remaining": 47, "sold": 1, "held": 2}

    # A full, succeeded team refuses everyone, and nothing is written.
    before = promo_counts(app)
    refused = join(client, team_id, late_h)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "team_closed"
    again = join(client, team_id, second_h)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_member"
    assert promo_counts(app) == before


def test_refusals_change_nothing(app, client, product, make_group_buy, members):
    group_buy = make_group_buy(product, team_size=2)
    (leader, leader_h), (other, other_h) = members(2)
    team_id = start(client, group_buy["id"], leader_h).json["team_id"]
    before = promo_counts(app)
    # The leader is already in their own team.
    response = join(client, team_id, leader_h)
    assert response.status_code == 409 and response.json["error"]["code"] == "already_member"
    assert join(client, 999999, other_h).status_code == 404
    assert start(client, 999999, other_h).status_code == 404
    assert join(client, team_id, {}).status_code == 401
    bad = join(client, team_id, other_h, json={"shipping_address": {"name": "x"}})
    assert bad.status_code == 422
    assert promo_counts(app) == before


def test_team_full_is_reported_when_the_slots_are_taken(ctx, product, make_group_buy, members):
    """A team whose slots are all taken but not yet settled (a racing join) says team_full."""
    from forum.accounts.models import User
    from forum.errors import Conflict
    from forum.promotions import service
    from forum.promotions.models import Team

    group_buy = make_group_buy(product, team_size=2)
    (leader, _), (other, _) = members(2)
    with ctx.test_request_context("/"):
        team, _ = service.start_team(
            db.session.get(User, leader.id), service.get_group_buy(group_buy["id"])
        )
        db.session.commit()
        # Another join has taken the last slot in a transaction that has not finished.
        db.session.execute(db.update(Team).where(Team.id == team.id).values(members=2))
        try:
            service.join_team(db.session.get(User, other.id), team)
        except Conflict as err:
            assert err.code == "team_full"
        else:  # pragma: no cover
            raise AssertionError("joined a full team")
        db.session.rollback()


def test_one_forming_team_per_leader_and_campaign(app, client, product, make_group_buy, members):
    group_buy = make_group_buy(product)
    ((leader, leader_h),) = members(1)
    assert start(client, group_buy["id"], leader_h).status_code == 201
    before = promo_counts(app)
    again = start(client, group_buy["id"], leader_h)
    assert again.status_code == 409 and again.json["error"]["code"] == "team_already_started"
    assert promo_counts(app) == before


def test_nearly_full_teams_are_listed_first(client, product, make_group_buy, members):
    group_buy = make_group_buy(product, team_size=4)
    people = members(7)
    first = start(client, group_buy["id"], people[0][1]).json["team_id"]
    second = start(client, group_buy["id"], people[1][1]).json["team_id"]
    third = start(client, group_buy["id"], people[2][1]).json["team_id"]
    join(client, second, people[3][1])
    join(client, second, people[4][1])
    join(client, third, people[5][1])
    listed = client.get(f"/api/v1/group-buys/{group_buy['id']}").json["teams"]
    assert [t["team_id"] for t in listed] == [second, third, first]
    assert [t["seats_left"] for t in listed] == [1, 2, 3]


def test_idempotent_start_and_join(app, client, product, make_group_buy, members):
    group_buy = make_group_buy(product)
    (leader, leader_h), (other, other_h) = members(2)
    key = {"Idempotency-Key": "start-1"}
    first = start(client, group_buy["id"], {**leader_h, **key})
    before = promo_counts(app)
    replay = start(client, group_buy["id"], {**leader_h, **key})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json["team_id"] == first.json["team_id"]
    assert promo_counts(app) == before

    team_id = first.json["team_id"]
    joined = join(client, team_id, {**other_h, "Idempotency-Key": "join-1"})
    before = promo_counts(app)
    replay = join(client, team_id, {**other_h, "Idempotency-Key": "join-1"})
    assert replay.status_code == 200 and replay.json["team_id"] == joined.json["team_id"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    # The same key for another request is refused.
    other_team = start(client, group_buy["id"], {**other_h, "Idempotency-Key": "join-1"})
    assert other_team.status_code == 422
    assert other_team.json["error"]["code"] == "idempotency_key_reused"
    assert promo_counts(app) == before


def test_no_new_teams_once_the_campaign_ends(app, client, shop, product, make_group_buy, members):
    group_buy = make_group_buy(product)
    (leader, leader_h), (other, other_h) = members(2)
    team_id = start(client, group_buy["id"], leader_h).json["team_id"]
    assert (
        client.post(f"/api/v1/group-buys/{group_buy['id']}/end", headers=other_h).status_code == 403
    )
    ended = client.post(f"/api/v1/group-buys/{group_buy['id']}/end", headers=shop.headers)
    assert ended.status_code == 200 and ended.json["state"] == "ended"
    before = promo_counts(app)
    refused = start(client, group_buy["id"], other_h)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "campaign_ended"
    closed = join(client, team_id, other_h)
    assert closed.status_code == 409 and closed.json["error"]["code"] == "team_closed"
    assert promo_counts(app) == before
    # Ending settled the forming team at once: failed, its order cancelled, stock back.
    assert client.get(f"/api/v1/teams/{team_id}").json["status"] == "failed"
    with app_context(app):
        assert db.session.scalars(select(Order.status)).all() == ["cancelled"]
    assert conservation(app, product, 50) == {"remaining": 50, "sold": 0, "held": 0}


def test_sold_out_product_refuses_teams(app, client, shop, make_product, make_group_buy, members):
    scarce = make_product(shop, "Scarce", price_cents=2000, stock=1)
    group_buy = make_group_buy(scarce, group_price_cents=1500, team_size=2)
    (a, a_h), (b, b_h) = members(2)
    team_id = start(client, group_buy["id"], a_h).json["team_id"]
    before = promo_counts(app)
    response = join(client, team_id, b_h)
    assert response.status_code == 409 and response.json["error"]["code"] == "sold_out"
    assert promo_counts(app) == before


def test_held_orders_cannot_be_marked_paid_shipped_or_paid_offline(
    client, shop, product, make_group_buy, buyer_headers
):
    group_buy = make_group_buy(product)
    team = start(client, group_buy["id"], buyer_headers).json
    order_id = team["my_order_id"]
    marked = client.post(f"/api/v1/orders/{order_id}/mark-paid", headers=shop.headers)
    assert marked.status_code == 409 and marked.json["error"]["code"] == "order_held"
    shipped = client.post(f"/api/v1/orders/{order_id}/ship", json={}, headers=shop.headers)
    assert shipped.status_code == 409
    offline = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "offline"}, headers=buyer_headers
    )
    assert offline.status_code == 409 and offline.json["error"]["code"] == "order_held"
    order = client.get(f"/api/v1/orders/{order_id}", headers=buyer_headers).json
    assert order["status"] == "held" and order["payment"] is None


def test_team_joined_listeners_hear_every_member(app, client, product, make_group_buy, members):
    from forum import signals

    heard = []

    def listener(team, member, order):
        heard.append((team.id, member.user_id, order.kind, order.status))

    signals.team_joined.connect(listener)
    signals.team_joined.connect(listener)  # connecting twice has no effect
    try:
        group_buy = make_group_buy(product, team_size=2)
        (a, a_h), (b, b_h) = members(2)
        team_id = start(client, group_buy["id"], a_h).json["team_id"]
        join(client, team_id, b_h)
    finally:
        signals.team_joined.disconnect(listener)
    assert heard == [(team_id, a.id, "groupbuy", "held"), (team_id, b.id, "groupbuy", "held")]


def test_order_lines_show_the_group_price(app, client, product, make_group_buy, buyer_headers):
    group_buy = make_group_buy(product, group_price_cents=4450)
    order_id = start(client, group_buy["id"], buyer_headers).json["my_order_id"]
    with app_context(app):
        item = db.session.scalar(select(OrderItem).where(OrderItem.order_id == order_id))
        assert (item.unit_price_cents, item.line_total_cents) == (4450, 4450)
