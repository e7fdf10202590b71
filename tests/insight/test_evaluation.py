"""Promotion evaluation from hand-made journeys: exposure and the matched control give
the incremental figures computed by hand (with the normal-approximation interval), a
promotion nobody saw has no lift, costs sum from the ledgers, and only the owning
merchant may read it."""

import math

import pytest

from forum.insight.service.stats import Group, lift
from tests.insight import evaluation_journeys
from tests.insight.evaluation_journeys import PERIOD

journeys = evaluation_journeys.journeys  # the fixture


def evaluation(client, headers, kind, ident, **query):
    return client.get(
        f"/api/v1/merchant/promotions/{kind}/{ident}/evaluation",
        query_string=query or PERIOD,
        headers=headers,
    )


# Hand computation (one stratum holds every exposed member: nobody posted or bought before):
# exposed orders [2, 1, 0, 0]: mean .75, s2 = (5 - 9/4) / 3; control (same stratum) c1..c4
# orders [1, 0, 0, 0]: mean .25, s2 = (1 - 1/4) / 3. Incremental = 4 * (.75 - .25) = 2;
# variance = 16 * (s2e / 4 + s2c / 4); revenue is the same in cents x 1000.
S2E, S2C = (5 - 9 / 4) / 3, (1 - 1 / 4) / 3
HALF = 1.96 * math.sqrt(16 * (S2E / 4 + S2C / 4))


def test_incremental_figures_match_the_hand_computation(client, journeys):
    response = evaluation(client, journeys["shop"].headers, "snap", journeys["snap"])
    assert response.status_code == 200, response.json
    report = response.json
    assert report["reach"] == 4
    assert report["control"] == "matched"
    assert report["exposed"] == {
        "members": 4,
        "buyers": 2,
        "orders": 3,
        "revenue_cents": 3000,
        "orders_per_member": 0.75,
        "revenue_per_member_cents": 750.0,
    }
    # c5 is unexposed (5 members, 2 orders) but in a stratum without exposed members:
    # it does not move the lift (unstratified it would be 4 * (.75 - .4) = 1.4).
    assert report["unexposed"]["members"] == 5
    assert report["unexposed"]["orders"] == 2
    assert report["unmatched"] == 0
    orders = report["incremental_orders"]
    assert orders["value"] == pytest.approx(2.0)
    assert orders["low"] == pytest.approx(2.0 - HALF, abs=1e-3)
    assert orders["high"] == pytest.approx(2.0 + HALF, abs=1e-3)
    revenue = report["incremental_revenue_cents"]
    assert revenue["value"] == pytest.approx(2000.0)
    assert revenue["low"] == pytest.approx(2000.0 - 1000 * HALF, abs=0.01)
    assert report["sources"][0]["source_id"] == 501
    assert report["sources"][0]["reach"] == 4
    assert report["sources"][0]["clickers"] == 1
    assert report["sources"][0]["orders"] == 3


def test_costs_sum_from_the_ledgers_and_give_the_roi(client, journeys):
    report = evaluation(client, journeys["shop"].headers, "snap", journeys["snap"]).json
    # discount: e1's 2 units at 10.00 - 6.00; e2's unit was returned.
    # commission: 1.50 earned - 0.50 reversed; CPA: 2.00.
    assert report["cost"] == {
        "discount_cents": 800,
        "commission_cents": 100,
        "cpa_cents": 200,
        "perks_cents": 0,
        "points_cents": 0,
        "total_cents": 1100,
        "points_granted": 0,
        "points_redeemed": 0,
    }
    # ROI = 30% of the incremental revenue / cost.
    assert report["incremental_margin_cents"]["value"] == pytest.approx(600.0)
    assert report["roi"]["value"] == pytest.approx(600 / 1100, abs=1e-4)


def test_perks_and_points_cost_from_the_members_ledgers(app, client, journeys):
    from forum.extensions import db
    from forum.members.models import LedgerEntry, PerkGrant
    from tests.conftest import app_context

    people, orders = journeys["people"], journeys["orders"]
    merchant = journeys["shop"].user.id

    def perk(name, order, kind, amount, key):
        return PerkGrant(
            user_id=people[name].id,
            order_id=orders[order],
            merchant_id=merchant,
            perk=kind,
            amount_cents=amount,
            currency="EUR",
            funded_by="site",
            key=key,
        )

    def points(name, order, amount, reason):
        return LedgerEntry(
            user_id=people[name].id,
            account="points",
            amount=amount,
            reason=reason,
            order_id=orders[order],
        )

    with app_context(app):
        db.session.add_all(
            [
                # e1's snap-up order: free shipping 3.00, a rebate 2.00 of which 0.50
                # reversed; 100 points earned, 20 taken back on a partial refund.
                perk("e1", "e1", "free_shipping", 300, "fs:1"),
                perk("e1", "e1", "rebate", 200, "rb:1"),
                perk("e1", "e1", "rebate", -50, "rb:1:rev"),
                points("e1", "e1", 100, "earn:order"),
                points("e1", "e1", -20, "points_reversed"),
                # e2's order was paid with 150 points, 50 came back: told, not costed.
                points("e2", "e2", -150, "order_payment"),
                points("e2", "e2", 50, "order_payment_returned"),
                # c1's order is not the snap-up's: none of it counts.
                perk("c1", "c1", "free_shipping", 999, "fs:c1"),
                points("c1", "c1", 999, "earn:order"),
                # the credit account is not points
                LedgerEntry(
                    user_id=people["e1"].id,
                    account="credit",
                    amount=700,
                    reason="earn:order",
                    order_id=orders["e1"],
                ),
            ]
        )
        db.session.commit()
    cost = evaluation(client, journeys["shop"].headers, "snap", journeys["snap"]).json["cost"]
    # 300 + 200 - 50 perks; 80 points at 100 points per 1.00 = 0.80.
    assert cost["perks_cents"] == 450
    assert (cost["points_granted"], cost["points_redeemed"], cost["points_cents"]) == (80, 100, 80)
    assert cost["total_cents"] == 1100 + 450 + 80


def test_sales_opportunities(client, journeys):
    report = evaluation(client, journeys["shop"].headers, "snap", journeys["snap"]).json
    # e1 and e2 bought with their snap-up; e3 clicked without buying, then bought at
    # another shop on 03-20 (within 30 days).
    assert report["opportunities"] == {"participants": 3, "opportunities": 1, "converted": 1}


def test_a_promotion_nobody_saw_has_no_lift(client, journeys, make_product):
    shop = journeys["shop"]
    product = make_product(shop, price_cents=2000, stock=5)
    response = evaluation(client, shop.headers, "product", product)
    assert response.status_code == 200, response.json
    report = response.json
    assert report["reach"] == 0
    assert report["incremental_orders"] == {"value": 0.0, "low": 0.0, "high": 0.0}
    assert report["incremental_revenue_cents"] == {"value": 0.0, "low": 0.0, "high": 0.0}
    assert report["roi"] is None


def test_interval_on_a_hand_example():
    # exposed: 10 members, orders sum 6, squares 10; control: 20 members, sum 4, squares 4.
    strata = {0: {"exposed": Group(10, 5, 6, 10, 0, 0), "control": Group(20, 4, 4, 4, 0, 0)}}
    figure = lift(strata, "orders")
    s2e = (10 - 36 / 10) / 9
    s2c = (4 - 16 / 20) / 19
    half = 1.96 * math.sqrt(100 * (s2e / 10 + s2c / 20))
    assert figure["value"] == pytest.approx(10 * (0.6 - 0.2))
    assert figure["high"] - figure["value"] == pytest.approx(half)
    # a stratum without controls is left out
    strata[1] = {"exposed": Group(3, 3, 3, 3, 0, 0), "control": Group()}
    assert lift(strata, "orders")["value"] == pytest.approx(4.0)


def test_only_the_owning_merchant_and_good_input(client, journeys, make_user, token_for):
    snap = journeys["snap"]
    assert evaluation(client, journeys["other"].headers, "snap", snap).status_code == 404
    member = token_for(make_user("plain"))
    assert evaluation(client, member, "snap", snap).status_code == 403
    bad_kind = evaluation(client, journeys["shop"].headers, "banner", snap)
    assert bad_kind.status_code == 400
    assert bad_kind.json["error"]["fields"]["kind"]
    bad_date = evaluation(client, journeys["shop"].headers, "snap", snap, **{"from": "03/02"})
    assert bad_date.status_code == 400
    assert evaluation(client, journeys["shop"].headers, "snap", 999999).status_code == 404


def test_pages_and_csv_for_the_owner_and_admin_only(client, app, journeys, make_user):
    from tests.conftest import login

    snap = journeys["snap"]
    login(client, journeys["shop"].user)
    page = client.get(f"/merchant/evaluation/snap/{snap}", query_string=PERIOD)
    assert page.status_code == 200
    assert b"Exposed vs unexposed" in page.data and b"ins-bar" in page.data
    listing = client.get("/merchant/evaluation")
    assert f"/merchant/evaluation/snap/{snap}".encode() in listing.data
    csv = client.get(f"/merchant/evaluation/snap/{snap}", query_string={**PERIOD, "format": "csv"})
    assert csv.mimetype == "text/csv"
    assert "exposed,4,2,3,3000,0.75" in csv.get_data(as_text=True)
    assert client.get(f"/admin/evaluation/snap/{snap}").status_code == 403
    client = app.test_client()
    login(client, journeys["other"].user)
    assert client.get(f"/merchant/evaluation/snap/{snap}").status_code == 404
    client = app.test_client()
    login(client, make_user("root", role="admin"))
    assert client.get(f"/admin/evaluation/snap/{snap}", query_string=PERIOD).status_code == 200


def test_a_member_viewing_a_post_with_the_widget_is_exposed_once(
    app, client, journeys, make_category, make_user
):
    from forum.board import service as board
    from forum.board.models import Category, Post
    from forum.extensions import db
    from forum.insight.models import Exposure
    from tests.conftest import app_context, login

    author = journeys["people"]["c2"]
    category_id = make_category("deals")
    with app_context(app), app.test_request_context("/"):
        from forum.accounts.models import User

        thread = board.create_thread(
            db.session.get(User, author.id),
            db.session.get(Category, category_id),
            "Snap-up today",
            f"Look at this [[snap:{journeys['snap']}]] deal",
        )
        db.session.commit()
        thread_id = thread.id
        post_id = db.session.query(Post.id).filter_by(thread_id=thread_id).scalar()
    assert client.get(f"/t/{thread_id}").status_code == 200  # anonymous: nobody to record
    reader = make_user("reader")
    login(client, reader)
    for _ in range(2):
        assert client.get(f"/t/{thread_id}").status_code == 200
    with app_context(app):
        rows = db.session.query(Exposure).filter_by(user_id=reader.id).all()
        assert [
            (r.embed_kind, r.embed_id, r.source_kind, r.source_id, r.author_id) for r in rows
        ] == [("snap", journeys["snap"], "post", post_id, author.id)]
        assert db.session.query(Exposure).filter_by(source_id=post_id).count() == 1


def test_a_campaign_is_measured_against_its_random_holdout(app, client, journeys):
    from forum.campaigns.models import Campaign, Delivery, Segment
    from forum.extensions import db
    from tests.conftest import app_context
    from tests.insight.evaluation_journeys import at

    people, shop = journeys["people"], journeys["shop"]
    with app_context(app):
        segment = Segment(name="all", rule={})
        db.session.add(segment)
        db.session.flush()
        campaign = Campaign(
            name="Spring",
            channel="email",
            segment_id=segment.id,
            body="Hello",
            holdout_bp=5000,
            status="finished",
            started_at=at(3, 8),
            created_by_id=shop.user.id,
        )
        db.session.add(campaign)
        db.session.flush()
        for name, status in (("e1", "sent"), ("e2", "sent"), ("c1", "holdout"), ("c2", "holdout")):
            db.session.add(
                Delivery(
                    campaign_id=campaign.id,
                    user_id=people[name].id,
                    status=status,
                    sent_at=at(3, 8) if status == "sent" else None,
                )
            )
        db.session.commit()
        campaign_id = campaign.id
    response = client.get(
        f"/api/v1/merchant/promotions/campaign/{campaign_id}/evaluation",
        query_string=PERIOD,
        headers=shop.headers,
    )
    assert response.status_code == 200, response.json
    report = response.json
    assert report["control"] == "holdout"
    # sent: e1 (2 orders), e2 (1); holdout: c1 (1), c2 (0). 2 * (1.5 - .5) = 2;
    # s2 = .5 in both groups, variance = 4 * (.5/2 + .5/2) = 2.
    assert (report["exposed"]["members"], report["unexposed"]["members"]) == (2, 2)
    assert report["incremental_orders"]["value"] == pytest.approx(2.0)
    assert report["incremental_orders"]["high"] == pytest.approx(
        2.0 + 1.96 * math.sqrt(2), abs=1e-3
    )
    assert report["roi"] is None  # nothing spent
    other = client.get(
        f"/api/v1/merchant/promotions/campaign/{campaign_id}/evaluation",
        headers=journeys["other"].headers,
    )
    assert other.status_code == 404


def test_a_coupon_no_campaign_carries_is_measured_on_the_readers_of_its_post(
    app, client, journeys, make_category
):
    """Exposed: members who read down to a post giving the code (not its author, not who
    stopped before it); control: matched members, as for a widget."""
    from sqlalchemy import update

    from forum.accounts.models import User
    from forum.board import service as board
    from forum.board.models import Category, Post, ThreadRead
    from forum.extensions import db
    from forum.members.coupons.models import Coupon
    from tests.conftest import app_context
    from tests.insight.evaluation_journeys import at

    people, shop = journeys["people"], journeys["shop"]
    category_id = make_category("deals")
    with app_context(app), app.test_request_context("/"):
        coupon = Coupon(
            code="SPRING10",
            merchant_id=shop.merchant_id,
            kind="fixed",
            value=100,
            currency="USD",
            starts_at=at(2, 0),
        )
        db.session.add(coupon)
        thread = board.create_thread(
            db.session.get(User, people["c2"].id),
            db.session.get(Category, category_id),
            "Spring deals",
            "Use spring10 at Acme this week",
        )
        db.session.execute(
            update(Post).where(Post.thread_id == thread.id).values(created_at=at(3, 8))
        )
        for name, position in (("e1", 1), ("e2", 1), ("c3", 0), ("c2", 1)):
            db.session.merge(
                ThreadRead(
                    user_id=people[name].id, thread_id=thread.id, last_read_position=position
                )
            )
        db.session.commit()
        coupon_id = coupon.id
    response = evaluation(client, shop.headers, "coupon", coupon_id)
    assert response.status_code == 200, response.json
    report = response.json
    assert report["control"] == "matched"
    # e1 (2 orders) and e2 (1) read it; c2 wrote it and c3 stopped before it. Matched
    # control (nobody posted or bought before): c1 (1 order), c2, c3, c4, e3, e4 -> 1/6.
    assert report["reach"] == 2
    assert (report["exposed"]["orders"], report["unexposed"]["members"]) == (3, 7)
    assert report["incremental_orders"]["value"] == pytest.approx(2 * (1.5 - 1 / 6), abs=1e-4)
    # The same coupon is not another merchant's to read.
    assert evaluation(client, journeys["other"].headers, "coupon", coupon_id).status_code == 404


def test_the_merchant_rollup_agrees_with_each_evaluation_in_bounded_statements(
    app, client, journeys, make_product
):
    """The roll-up's figures are each promotion's own (same period), and the number of
    statements does not grow with the number of promotions."""
    from sqlalchemy import event

    from forum.extensions import db
    from forum.insight import service
    from forum.insight.models import Exposure
    from tests.conftest import app_context
    from tests.insight.evaluation_journeys import at

    shop, people = journeys["shop"], journeys["people"]
    card = make_product(shop, price_cents=500, stock=5)  # never seen: not a row

    def seen(n, product_id):
        db.session.add(
            Exposure(
                user_id=people["c3"].id,
                embed_kind="product",
                embed_id=product_id,
                source_kind="post",
                source_id=900 + n,
                first_seen_at=at(6),
            )
        )

    with app_context(app):
        seen(0, make_product(shop, price_cents=400, stock=5))
        db.session.commit()

    def count_statements(**query):
        with app_context(app):
            seen = []
            listener = lambda *args: seen.append(1)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                rollup = service.merchant_rollup(shop.user.id, query["from"], query["to"])
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return rollup, len(seen)

    rollup, few = count_statements(**PERIOD)
    rows = {(row["kind"], row["id"]): row for row in rollup["rows"]}
    alone = evaluation(client, shop.headers, "snap", journeys["snap"]).json
    snap = rows[("snap", journeys["snap"])]
    assert snap["reach"] == alone["reach"] == 4
    assert snap["incremental_revenue_cents"] == pytest.approx(
        alone["incremental_revenue_cents"]["value"]
    )
    assert snap["incremental_revenue_high_cents"] == pytest.approx(
        alone["incremental_revenue_cents"]["high"]
    )
    assert snap["cost_cents"] == alone["cost"]["total_cents"] == 1100
    assert snap["roi"] == pytest.approx(alone["roi"]["value"], abs=1e-4)

    # Twenty more product cards, each seen by someone: the statements stay as many.
    with app_context(app):
        for n in range(1, 21):
            seen(n, make_product(shop, price_cents=500 + n, stock=5))
        db.session.commit()
    rollup, many = count_statements(**PERIOD)
    assert len([row for row in rollup["rows"] if row["kind"] == "product"]) == 21
    assert card not in {row["id"] for row in rollup["rows"] if row["kind"] == "product"}
    assert many == few


def test_rollup_page_for_the_merchant_and_merchant_names_for_the_admin(
    app, client, journeys, make_user
):
    from tests.conftest import login

    login(client, journeys["shop"].user)
    page = client.get("/merchant/evaluation", query_string=PERIOD)
    assert page.status_code == 200
    assert b'data-table="rollup"' in page.data
    assert f'data-promotion="snap-{journeys["snap"]}"'.encode() in page.data
    assert client.get("/merchant/evaluation", query_string={"from": "x"}).status_code == 400
    admin = app.test_client()
    login(admin, make_user("root2", role="admin"))
    listing = admin.get("/admin/evaluation")
    assert listing.status_code == 200
    assert b'<td data-label="Merchant">acme</td>' in listing.data


def test_the_admin_api_evaluates_any_promotion_and_refuses_others(
    client, journeys, make_user, token_for
):
    url = f"/api/v1/admin/promotions/snap/{journeys['snap']}/evaluation"
    admin = token_for(make_user("root3", role="admin"))
    response = client.get(url, query_string=PERIOD, headers=admin)
    assert response.status_code == 200, response.json
    assert response.json["reach"] == 4 and response.json["merchant_id"] == journeys["shop"].user.id
    assert client.get(url, headers=journeys["shop"].headers).status_code == 403
    assert client.get(url, headers=token_for(make_user("plain2"))).status_code == 403
    missing = client.get("/api/v1/admin/promotions/snap/999999/evaluation", headers=admin)
    assert missing.status_code == 404
