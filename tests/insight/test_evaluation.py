"""Promotion evaluation from hand-made journeys: exposure and the matched control give
the incremental figures computed by hand (with the normal-approximation interval), a
promotion nobody saw has no lift, costs sum from the ledgers, and only the owning
merchant may read it."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from forum.attribution.models import Click, Commission, Conversion, Credit
from forum.clock import replaying
from forum.extensions import db
from forum.insight.evaluation_models import Exposure
from forum.insight.service.evaluation import _Group, lift
from forum.promotions.models import SnapPurchase
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.fixtures.shop import order_body

PERIOD = {"from": "2026-03-02", "to": "2026-03-15"}


def at(day: int, hour: int = 10, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def journeys(app, client, make_user, make_shop, make_product, token_for):
    """A snap-up (list price 10.00, snap price 6.00) shown in post 501 from 03-03.

    exposed  e1 (saw 03-03, buys 03-04 and 03-05), e2 (saw 03-03, buys 03-06),
             e3 (saw 03-03, clicks, buys at another shop 03-20), e4 (bought 03-02 09:00,
             before seeing it 03-03: not counted).
    control  c1..c4 saw another widget in the period; c1 buys 03-07. c5 also active and
             buys 03-09, but bought in February (another stratum, with no exposed).
    others   z buys 03-08 but was not around (no post, no widget): not in the pool.
    """
    shop = make_shop("acme")
    other = make_shop("beta")
    product = make_product(shop, price_cents=1000, stock=100)
    elsewhere = make_product(other, price_cents=1000, stock=100)
    names = ("e1", "e2", "e3", "e4", "c1", "c2", "c3", "c4", "c5", "z")
    with replaying(at(5, month=1)):  # everyone registered long before the period
        people = {name: make_user(f"m_{name}") for name in names}
    snap = client.post(
        "/api/v1/snaps",
        json={
            "product_id": product,
            "price_cents": 600,
            "stock": 50,
            "per_user_limit": 5,
            "starts_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
            "ends_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        },
        headers=shop.headers,
    )
    assert snap.status_code == 201, snap.json
    snap_id = snap.json["id"]

    def order(name, moment, item=product):
        response = client.post(
            "/api/v1/orders", json=order_body((item, 1)), headers=token_for(people[name])
        )
        assert response.status_code == 201, response.json
        with app_context(app):
            db.session.execute(
                update(Order)
                .where(Order.id == response.json["id"])
                .values(status="paid", created_at=moment, total_cents=1000)
            )
            db.session.commit()
        return response.json["id"]

    first = order("e1", at(4))
    order("e1", at(5))
    second = order("e2", at(6))
    order("e4", at(2, 9))
    order("c1", at(7))
    order("c5", at(10, month=2))
    order("c5", at(9))
    order("z", at(8))
    order("e3", at(20), item=elsewhere)
    with app_context(app):
        for name in ("e1", "e2", "e3", "e4"):
            db.session.add(
                Exposure(
                    user_id=people[name].id,
                    embed_kind="snap",
                    embed_id=snap_id,
                    source_kind="post",
                    source_id=501,
                    author_id=people["c2"].id,
                    first_seen_at=at(3, 8),
                )
            )
        for name in ("c1", "c2", "c3", "c4", "c5"):
            db.session.add(
                Exposure(
                    user_id=people[name].id,
                    embed_kind="product",
                    embed_id=elsewhere,
                    source_kind="post",
                    source_id=777,
                    first_seen_at=at(5),
                )
            )
        db.session.add_all(
            [
                SnapPurchase(
                    snap_id=snap_id,
                    user_id=people["e1"].id,
                    order_id=first,
                    quantity=2,
                    created_at=at(4),
                ),
                SnapPurchase(
                    snap_id=snap_id,
                    user_id=people["e2"].id,
                    order_id=second,
                    quantity=1,
                    created_at=at(6),
                    returned_at=at(7),
                ),
            ]
        )
        click = Click(
            source_kind="post",
            source_id=501,
            embed_kind="snap",
            embed_id=snap_id,
            merchant_id=shop.user.id,
            user_id=people["e3"].id,
            dedupe_key="k-e3",
            created_at=at(3, 12),
        )
        db.session.add(click)
        db.session.flush()
        _ledger(shop.user.id, people["e1"].id, click.id, snap_id)
        db.session.commit()
    return {"shop": shop, "other": other, "snap": snap_id, "people": people}


def _ledger(merchant_id, customer_id, click_id, snap_id):
    """CPS 1.50 earned then 0.50 reversed on an order; CPA 2.00 on a team join."""
    for key, kind, rows in (
        ("order:1", "order", (("earned", 150), ("reversal", -50))),
        ("join:1", "team_join", (("earned", 200),)),
    ):
        conversion = Conversion(
            key=key, kind=kind, merchant_id=merchant_id, customer_id=customer_id, occurred_at=at(4)
        )
        db.session.add(conversion)
        db.session.flush()
        credit = Credit(
            conversion_id=conversion.id,
            click_id=click_id,
            source_kind="post",
            source_id=501,
            embed_kind="snap",
            embed_id=snap_id,
            weight_bp=10000,
        )
        db.session.add(credit)
        db.session.flush()
        for index, (entry, amount) in enumerate(rows):
            db.session.add(
                Commission(
                    entry_key=f"{key}:{index}",
                    kind=entry,
                    conversion_id=conversion.id,
                    credit_id=credit.id,
                    merchant_id=merchant_id,
                    amount_cents=amount,
                )
            )


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
    }
    # ROI = 30% of the incremental revenue / cost.
    assert report["incremental_margin_cents"]["value"] == pytest.approx(600.0)
    assert report["roi"]["value"] == pytest.approx(600 / 1100, abs=1e-4)


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
    strata = {0: {"exposed": _Group(10, 5, 6, 10, 0, 0), "control": _Group(20, 4, 4, 4, 0, 0)}}
    figure = lift(strata, "orders")
    s2e = (10 - 36 / 10) / 9
    s2c = (4 - 16 / 20) / 19
    half = 1.96 * math.sqrt(100 * (s2e / 10 + s2c / 20))
    assert figure["value"] == pytest.approx(10 * (0.6 - 0.2))
    assert figure["high"] - figure["value"] == pytest.approx(half)
    # a stratum without controls is left out
    strata[1] = {"exposed": _Group(3, 3, 3, 3, 0, 0), "control": _Group()}
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
