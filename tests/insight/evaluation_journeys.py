"""A hand-made snap-up journey for the promotion evaluation tests and the browser test
(import ``journeys`` into a test module to use the fixture)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from forum.attribution.models import Click, Commission, Conversion, Credit
from forum.clock import replaying
from forum.extensions import db
from forum.insight.models import Exposure
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
    unrelated = order("c1", at(7))
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
    return {
        "shop": shop,
        "other": other,
        "snap": snap_id,
        "people": people,
        "orders": {"e1": first, "e2": second, "c1": unrelated},
    }


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
