"""Real shop orders, group-buy teams and snap-ups reach attribution through the shop's and
promotions' hooks: a click on a widget in a post, then a purchase, credits that post; refunds,
failed teams and a broken ledger never reach the buyer."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy.exc import OperationalError

from forum import embeds
from forum.attribution import service
from forum.attribution.models import Commission, Conversion
from forum.attribution.tasks import approve_commissions
from forum.board.models import Post
from forum.clock import now
from forum.extensions import db
from forum.markup import EmbedRef
from forum.members import service as members
from forum.promotions.tasks import settle_teams
from forum.shop_embed.models import Order
from tests.attribution.conftest import BROWSER, click, set_rates
from tests.conftest import app_context, login
from tests.fixtures.shop import ADDRESS, order_body

# 10% CPS, 1.50 per team join, 1.00 per first purchase with the shop.
CPS_BP, TEAM_JOIN, FIRST_PURCHASE = 1000, 150, 100


@pytest.fixture
def store(app, make_shop, make_product, make_user, make_thread, token_for):
    """A shop with attribution terms, a product at 12.50 and a post by ``author`` embedding it."""
    shop = make_shop("acme", shipping_fee_cents=500, free_from=None)
    product_id = make_product(shop, "Kettle", price_cents=1250, stock=20)
    set_rates(
        app,
        shop.user,
        cps_rate_bp=CPS_BP,
        team_join=TEAM_JOIN,
        first_purchase=FIRST_PURCHASE,
    )
    author = make_user("writer")
    reader = make_user("reader")
    return {
        "shop": shop,
        "merchant": shop.user,
        "product": product_id,
        "author": author,
        "reader": reader,
        "reader_headers": token_for(reader),
        "make_post": lambda body: _first_post(app, make_thread(author, title="Look", body=body)),
    }


def _first_post(app, thread_id: int) -> int:
    with app_context(app):
        return db.session.scalar(
            db.select(Post.id).where(Post.thread_id == thread_id, Post.position == 1)
        )


def href_in(app, post_id: int, kind: str, ident: int) -> str:
    """The tracked link the post's widget carries."""
    with app_context(app), app.test_request_context("/"):
        post = db.session.get(Post, post_id)
        return embeds.href(
            EmbedRef(kind, ident), embeds.EmbedContext("post", post.id, post.author_id)
        )


def visit(app, user, post_id: int, kind: str, ident: int):
    """``user`` reads the post in a browser session and follows the widget's link."""
    browser = app.test_client()
    login(browser, user)
    href = href_in(app, post_id, kind, ident)
    with app_context(app):
        thread_id = db.session.get(Post, post_id).thread_id
    assert href in browser.get(f"/t/{thread_id}", headers=BROWSER).get_data(as_text=True)
    click(browser, href)
    return browser


def buy(client, headers, product_id: int, quantity: int = 1) -> int:
    placed = client.post("/api/v1/orders", json=order_body((product_id, quantity)), headers=headers)
    assert placed.status_code == 201, placed.json
    pay(client, headers, placed.json["id"])
    return placed.json["id"]


def pay(client, headers, order_id: int) -> None:
    paid = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=headers
    )
    assert paid.status_code == 200 and paid.json["status"] in ("paid", "held"), paid.json


def my_order(client, headers, team_id: int) -> int:
    return client.get(f"/api/v1/teams/{team_id}", headers=headers).json["my_order_id"]


def conversions(app, kind: str | None = None) -> list[Conversion]:
    with app_context(app):
        query = db.select(Conversion).order_by(Conversion.id)
        if kind:
            query = query.where(Conversion.kind == kind)
        rows = db.session.scalars(query).all()
        for row in rows:
            _ = row.credits  # loaded while the session is open
        db.session.expunge_all()
        return rows


def commission_rows(app) -> list[tuple[str, int, str]]:
    with app_context(app):
        return [
            (c.kind, c.amount_cents, c.status)
            for c in db.session.scalars(db.select(Commission).order_by(Commission.id))
        ]


def order_row(app, order_id: int) -> Order:
    with app_context(app):
        order = db.session.get(Order, order_id)
        db.session.expunge(order)
        return order


def test_a_click_then_a_paid_order_credits_the_post_and_stamps_the_order(app, client, store):
    post_id = store["make_post"](f"My favourite:\n\n[[product:{store['product']}]]")
    visit(app, store["reader"], post_id, "product", store["product"])

    order_id = buy(client, store["reader_headers"], store["product"], quantity=2)

    order = order_row(app, order_id)
    assert order.total_cents == 3000  # 2 x 12.50 + 5.00 shipping
    assert (order.source_kind, order.source_id, order.source_author_id) == (
        "post",
        post_id,
        store["author"].id,
    )
    sale, first = conversions(app)
    assert (sale.kind, sale.order_id, sale.revenue_cents, sale.direct) == (
        "order",
        order_id,
        3000,
        False,
    )
    assert [(c.source_kind, c.source_id, c.author_id) for c in sale.credits] == [
        ("post", post_id, store["author"].id)
    ]
    assert first.kind == "first_purchase" and first.order_id == order_id
    assert commission_rows(app) == [("earned", 300, "pending"), ("earned", 100, "pending")]
    # The order's history says where it came from; the API shows it to the buyer.
    shown = client.get(f"/api/v1/orders/{order_id}", headers=store["reader_headers"]).json
    assert shown["source"]["id"] == post_id
    assert [e["type"] for e in shown["events"]][-1] == "source_set"


def test_a_refund_before_payout_reverses_the_sale_and_the_first_purchase(app, client, store):
    post_id = store["make_post"](f"[[product:{store['product']}]]")
    visit(app, store["reader"], post_id, "product", store["product"])
    order_id = buy(client, store["reader_headers"], store["product"])
    refunded = client.post(
        f"/api/v1/orders/{order_id}/refund",
        json={"reason": "broken"},
        headers=store["shop"].headers,
    )
    assert refunded.status_code == 200
    with app_context(app):
        assert service.ledger_sum(store["merchant"].id) == 0
    assert sorted(commission_rows(app)) == sorted(
        [
            ("earned", 175, "reversed"),  # 10% of 17.50
            ("earned", 100, "reversed"),
            ("reversal", -175, "reversed"),
            ("reversal", -100, "reversed"),
        ]
    )
    assert all(c.reversed_at is not None for c in conversions(app))


def test_completion_starts_the_lock_and_approval_pays_the_author_store_credit(app, client, store):
    post_id = store["make_post"](f"[[product:{store['product']}]]")
    visit(app, store["reader"], post_id, "product", store["product"])
    order_id = buy(client, store["reader_headers"], store["product"], quantity=4)  # 55.00
    shipped = client.post(
        f"/api/v1/orders/{order_id}/ship", json={"tracking": "T1"}, headers=store["shop"].headers
    )
    assert shipped.status_code == 200
    with app_context(app):
        sale = service.order_conversion(order_id)
        earned = db.session.scalar(db.select(Commission).where(Commission.conversion_id == sale.id))
        assert earned.approvable_at is None  # nothing locks before the order completes
    done = client.post(f"/api/v1/orders/{order_id}/complete", headers=store["reader_headers"])
    assert done.status_code == 200
    with app_context(app):
        sale = service.order_conversion(order_id)
        earned = db.session.scalar(db.select(Commission).where(Commission.conversion_id == sale.id))
        assert sale.completed_at is not None
        assert earned.approvable_at == sale.completed_at + timedelta(days=14)
    with time_machine.travel(now() + timedelta(days=13), tick=False):
        assert approve_commissions.delay().get() == 0
    with time_machine.travel(now() + timedelta(days=15), tick=False):
        assert approve_commissions.delay().get() == 2
        with app_context(app):
            # Half of 5.50 + 1.00, as store credit on the author's wallet.
            assert members.balance(store["author"].id, "credit") == (550 + 100) // 2
        # The task retried (or delivered twice) approves and credits nothing more.
        assert approve_commissions.delay().get() == 0
        with app_context(app):
            assert members.balance(store["author"].id, "credit") == (550 + 100) // 2


def test_an_order_without_a_click_is_direct_and_stamps_nothing(app, client, store):
    store["make_post"](f"[[product:{store['product']}]]")  # shown, never followed
    order_id = buy(client, store["reader_headers"], store["product"])
    sale = conversions(app, "order")[0]
    assert sale.direct and sale.credits == []
    assert commission_rows(app) == []
    assert order_row(app, order_id).source_kind is None


def test_the_author_buying_through_their_own_post_earns_nothing(app, client, store, token_for):
    post_id = store["make_post"](f"[[product:{store['product']}]]")
    visit(app, store["author"], post_id, "product", store["product"])
    order_id = buy(client, token_for(store["author"]), store["product"])
    sale = conversions(app, "order")[0]
    assert [c.self_referral for c in sale.credits] == [True]
    assert commission_rows(app) == []
    # The report still knows which post sold it.
    assert order_row(app, order_id).source_id == post_id


def test_repeated_order_events_credit_the_order_once(app, client, store):
    from forum.attribution import hooks

    post_id = store["make_post"](f"[[product:{store['product']}]]")
    visit(app, store["reader"], post_id, "product", store["product"])
    order_id = buy(client, store["reader_headers"], store["product"])
    with app_context(app):
        for _ in range(3):  # a replayed postback, a second worker, a retry
            hooks.follow_order(db.session.get(Order, order_id))
        db.session.commit()
    assert [c.kind for c in conversions(app)] == ["order", "first_purchase"]
    assert len(commission_rows(app)) == 2
    # A second purchase is a sale but not a first purchase.
    buy(client, store["reader_headers"], store["product"])
    assert [c.kind for c in conversions(app)] == ["order", "first_purchase", "order"]


def test_a_broken_ledger_never_blocks_a_payment(app, client, store, monkeypatch):
    post_id = store["make_post"](f"[[product:{store['product']}]]")
    visit(app, store["reader"], post_id, "product", store["product"])

    def broken(facts):
        db.session.add(Conversion(key="half-written", kind="order"))  # rolled back with it
        raise OperationalError("INSERT", {}, Exception("ledger unavailable"))

    monkeypatch.setattr(service, "record_order", broken)
    order_id = buy(client, store["reader_headers"], store["product"])
    assert order_row(app, order_id).status == "paid"
    assert conversions(app) == [] and commission_rows(app) == []


def test_a_snap_up_bought_after_a_click_is_a_sale_of_the_post(app, client, store):
    snap = client.post(
        "/api/v1/snaps",
        json={
            "product_id": store["product"],
            "price_cents": 900,
            "stock": 5,
            "per_user_limit": 1,
            "starts_at": (now() - timedelta(seconds=1)).isoformat(),
            "ends_at": (now() + timedelta(hours=1)).isoformat(),
        },
        headers=store["shop"].headers,
    )
    assert snap.status_code == 201, snap.json
    post_id = store["make_post"](f"Quick!\n\n[[snap:{snap.json['id']}]]")
    visit(app, store["reader"], post_id, "snap", snap.json["id"])
    bought = client.post(
        f"/api/v1/snaps/{snap.json['id']}/buy",
        json={"quantity": 1, "shipping_address": ADDRESS},
        headers=store["reader_headers"],
    )
    assert bought.status_code == 201, bought.json
    assert conversions(app) == []  # not paid yet
    pay(client, store["reader_headers"], bought.json["id"])
    sale = conversions(app, "order")[0]
    assert sale.revenue_cents == bought.json["total_cents"]
    assert [(c.embed_kind, c.source_id) for c in sale.credits] == [("snap", post_id)]
    assert order_row(app, bought.json["id"]).source_id == post_id


@pytest.fixture
def group_buy(client, store):
    created = client.post(
        "/api/v1/group-buys",
        json={
            "product_id": store["product"],
            "group_price_cents": 900,
            "team_size": 2,
            "team_window_minutes": 60,
            "ends_at": (now() + timedelta(days=2)).isoformat(),
        },
        headers=store["shop"].headers,
    )
    assert created.status_code == 201, created.json
    return created.json["id"]


def test_a_team_join_after_a_click_pays_cpa_and_a_failed_team_takes_it_back(
    app, client, store, group_buy
):
    post_id = store["make_post"](f"Team up with me:\n\n[[groupbuy:{group_buy}]]")
    visit(app, store["reader"], post_id, "groupbuy", group_buy)
    started = client.post(
        f"/api/v1/group-buys/{group_buy}/teams",
        json={"shipping_address": ADDRESS},
        headers=store["reader_headers"],
    )
    assert started.status_code == 201, started.json
    team_id = started.json["team_id"]
    (join,) = conversions(app, "team_join")
    assert (join.customer_id, join.key) == (
        store["reader"].id,
        f"team_join:team:{team_id}:user:{store['reader'].id}",
    )
    assert [c.source_id for c in join.credits] == [post_id]
    assert commission_rows(app) == [("earned", TEAM_JOIN, "pending")]
    # The buyer pays in advance; the team never fills, so the order is refunded, not a sale.
    order_id = my_order(client, store["reader_headers"], team_id)
    pay(client, store["reader_headers"], order_id)
    with time_machine.travel(now() + timedelta(minutes=61), tick=False):
        assert settle_teams.delay().get() == 1
    assert order_row(app, order_id).status == "refunded"
    assert conversions(app, "order") == []
    assert commission_rows(app) == [
        ("earned", TEAM_JOIN, "reversed"),
        ("reversal", -TEAM_JOIN, "reversed"),
    ]
    with app_context(app):
        assert service.ledger_sum(store["merchant"].id) == 0


def test_a_completed_team_pays_cpa_per_member_and_cps_per_paid_order(
    app, client, store, group_buy, make_user, token_for
):
    post_id = store["make_post"](f"[[groupbuy:{group_buy}]]")
    visit(app, store["reader"], post_id, "groupbuy", group_buy)
    team_id = client.post(
        f"/api/v1/group-buys/{group_buy}/teams",
        json={"shipping_address": ADDRESS},
        headers=store["reader_headers"],
    ).json["team_id"]
    friend = make_user("friend")  # joined from the invite link: no click, direct
    joined = client.post(f"/api/v1/teams/{team_id}/join", headers=token_for(friend))
    assert joined.status_code == 200 and joined.json["status"] == "succeeded", joined.json
    actions = conversions(app, "team_join")
    assert [(c.customer_id, c.direct) for c in actions] == [
        (store["reader"].id, False),
        (friend.id, True),
    ]
    order_id = my_order(client, store["reader_headers"], team_id)
    pay(client, store["reader_headers"], order_id)
    (sale,) = conversions(app, "order")
    assert sale.order_id == order_id and [c.source_id for c in sale.credits] == [post_id]
    assert order_row(app, order_id).source_id == post_id


def test_the_merchant_report_shows_the_post_with_its_order_and_commission(app, client, store):
    post_id = store["make_post"](f"[[product:{store['product']}]]")
    other_post = store["make_post"](f"Also nice: [[product:{store['product']}]]")
    visit(app, store["reader"], post_id, "product", store["product"])
    buy(client, store["reader_headers"], store["product"], quantity=2)  # 30.00
    report = client.get(
        "/api/v1/merchant/attribution",
        query_string={"group_by": "post"},
        headers=store["shop"].headers,
    ).json
    rows = {row["key"]: row for row in report["items"]}
    row = rows[f"post:{post_id}"]
    assert (row["clicks"], row["orders"], int(row["revenue_cents"])) == (1, 1, 3000)
    assert int(row["commission_cents"]) == 300 + FIRST_PURCHASE
    assert f"post:{other_post}" not in rows or rows[f"post:{other_post}"]["orders"] == 0
    with app_context(app):
        assert sum(int(r["commission_cents"]) for r in report["items"]) == service.ledger_sum(
            store["merchant"].id
        )
    # Another merchant cannot read it.
    assert (
        client.get("/api/v1/merchant/attribution", headers=store["reader_headers"]).status_code
        == 403
    )


def test_the_profile_shows_the_author_their_earnings_and_others_the_orders(
    app, client, store, make_user
):
    post_id = store["make_post"](f"[[product:{store['product']}]]")
    author_browser = app.test_client()
    login(author_browser, store["author"])
    assert "via posts" not in author_browser.get("/u/writer").get_data(as_text=True)

    visit(app, store["reader"], post_id, "product", store["product"])
    buy(client, store["reader_headers"], store["product"], quantity=2)  # 30.00: 3.00 + 1.00

    own = author_browser.get("/u/writer").get_data(as_text=True)
    assert "Your posts earned" in own and "$4.00" in own and 'href="/me/earnings"' in own
    stranger = app.test_client()
    login(stranger, make_user("stranger"))
    seen = stranger.get("/u/writer").get_data(as_text=True)
    assert "Orders via posts" in seen and "$4.00" not in seen and "Your posts earned" not in seen
    assert "Orders via posts" in app.test_client().get("/u/writer").get_data(as_text=True)


def test_a_new_accounts_first_paid_order_converts_its_signup(app, client, store, token_for):
    """The shop's order hook is one of the signs of a person that turn a sign-up into CPA."""
    from tests.attribution.test_signups import register_after_click

    set_rates(app, store["merchant"], cps_rate_bp=CPS_BP, signup=150)
    post_id = store["make_post"](f"Look:\n\n[[product:{store['product']}]]")
    newbie = register_after_click(app, href_in(app, post_id, "product", store["product"]), "newbie")
    assert conversions(app, "signup") == []
    buy(client, token_for(newbie), store["product"])
    [signup] = conversions(app, "signup")
    assert (signup.customer_id, signup.merchant_id) == (newbie.id, store["merchant"].id)
    assert [c.author_id for c in signup.credits] == [store["author"].id]


def test_a_ladder_member_credits_cps_on_the_lower_final_price_not_the_price_paid_at_joining(
    app, client, store, make_user, token_for
):
    ladder = client.post(
        "/api/v1/group-buys",
        json={
            "product_id": store["product"],
            "team_window_minutes": 60,
            "ends_at": (now() + timedelta(days=2)).isoformat(),
            "steps": [{"team_size": 2, "price_cents": 1100}, {"team_size": 3, "price_cents": 1000}],
        },
        headers=store["shop"].headers,
    )
    assert ladder.status_code == 201, ladder.json
    ladder_id = ladder.json["id"]
    post_id = store["make_post"](f"Climb the ladder with me:\n\n[[groupbuy:{ladder_id}]]")
    visit(app, store["reader"], post_id, "groupbuy", ladder_id)
    team_id = client.post(
        f"/api/v1/group-buys/{ladder_id}/teams",
        json={"shipping_address": ADDRESS},
        headers=store["reader_headers"],
    ).json["team_id"]
    order_id = my_order(client, store["reader_headers"], team_id)
    paid_at_joining = order_row(app, order_id).total_cents
    pay(client, store["reader_headers"], order_id)  # in advance, at the first step's 11.00
    for name in ("second", "third"):  # the third join reaches the 10.00 step: the team closes
        joined = client.post(
            f"/api/v1/teams/{team_id}/join",
            json={"shipping_address": ADDRESS},
            headers=token_for(make_user(name)),
        )
        assert joined.status_code == 200, joined.json
    assert joined.json["status"] == "succeeded"
    order = order_row(app, order_id)
    assert (order.status, paid_at_joining - order.total_cents) == ("paid", 100)
    (sale,) = [c for c in conversions(app, "order") if c.order_id == order_id]
    assert sale.revenue_cents == order.total_cents
    assert [c.source_id for c in sale.credits] == [post_id]
    earned = [row for row in commission_rows(app) if row[0] == "earned" and row[2] == "pending"]
    assert (
        "earned",
        order.total_cents * CPS_BP // 10_000,
        "pending",
    ) in earned
    assert ("earned", paid_at_joining * CPS_BP // 10_000, "pending") not in earned


def test_an_order_repriced_after_its_sale_gives_back_commission_in_proportion(app, client, store):
    from forum.shop_embed import service as shop

    post_id = store["make_post"](f"[[product:{store['product']}]]")
    visit(app, store["reader"], post_id, "product", store["product"])
    order_id = buy(client, store["reader_headers"], store["product"], quantity=2)
    before = order_row(app, order_id).total_cents  # 2 x 12.50 + 5.00 shipping
    assert commission_rows(app) == [
        ("earned", before * CPS_BP // 10_000, "pending"),
        ("earned", FIRST_PURCHASE, "pending"),
    ]
    with app_context(app), app.test_request_context("/"):
        order = db.session.get(Order, order_id)
        assert shop.lower_prices(order, {store["product"]: 1000}, reason="price cut") == 500
        db.session.commit()
    after = order_row(app, order_id).total_cents
    assert before - after == 500
    cps = before * CPS_BP // 10_000
    assert commission_rows(app) == [
        ("earned", cps, "reversed"),
        ("earned", FIRST_PURCHASE, "pending"),
        ("reversal", -cps, "reversed"),
        ("earned", cps * after // before, "pending"),
    ]
    (sale,) = conversions(app, "order")
    assert (sale.revenue_cents, sale.commission_cents) == (after, after * CPS_BP // 10_000)
    assert sum(c.revenue_cents for c in sale.credits) == after
    with app_context(app):
        assert service.ledger_sum(store["merchant"].id) == cps * after // before + FIRST_PURCHASE
        # A total that is not lower (a repeated event) changes nothing.
        assert service.reprice_order(order_id, after) == 0
        assert service.reprice_order(order_id, after + 100) == 0
        db.session.commit()
    assert len(commission_rows(app)) == 4
