"""Promotions under a rush: many threads, each with its own connection, on committed data.

Runs on SQLite (a WAL file) and on PostgreSQL (``PLAZA_TEST_DATABASE_URL``). The
proof is in the database afterwards: exactly the stock was sold, no user beyond
their limit, no team beyond its size, and initial = remaining + sold + held.
"""

import random

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.errors import Conflict
from forum.extensions import db
from forum.promotions import service
from forum.promotions.models import SnapBuyer, SnapPurchase, Team, TeamMember
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.fixtures.concurrency import run_threads, small_pool
from tests.fixtures.shop import conservation

from .conftest import snap_conservation

pytestmark = pytest.mark.xdist_group("promo-concurrency")


@pytest.fixture
def config_overrides():
    return small_pool()


def bulk_users(app, count: int, prefix: str) -> list[int]:
    """Members made straight in the table (registration's password hashing is not under test)."""
    with app_context(app):
        users = [
            User(
                username=f"{prefix}{n:03d}",
                username_key=f"{prefix}{n:03d}",
                email=f"{prefix}{n}@example.com",
                password_hash="x",
            )
            for n in range(count)
        ]
        db.session.add_all(users)
        db.session.commit()
        ids = [u.id for u in users]
        db.session.remove()
        return ids


def _buy_loaded(user, snap_id, index):
    """As the page's button and the tests call it: the snap-up loaded first."""
    return service.buy_snap(user, service.get_snap(snap_id), 1)


def _buy_by_id(user, snap_id, index):
    """As the API calls it (the sold-out marker answers before the snap-up is loaded),
    each attempt with its own Idempotency-Key."""
    return service.buy_snap_by_id(user, snap_id, 1, idempotency_key=f"rush-{index}")


@pytest.mark.parametrize("take", [_buy_loaded, _buy_by_id], ids=["loaded", "by_id"])
def test_snap_rush_never_oversells_nor_lets_one_user_exceed_the_limit(
    app, shop, make_product, make_snap, take
):
    product = make_product(shop, "Hot sneakers", price_cents=12000, stock=100)
    snap = make_snap(product, price_cents=6000, stock=20, per_user_limit=1)
    buyers = bulk_users(app, 200, "rusher")
    greedy = bulk_users(app, 1, "greedy")[0]
    # 200 different buyers and one buyer firing 20 requests at once, all released together.
    plan = buyers + [greedy] * 20
    random.Random(7).shuffle(plan)

    def buy(index):
        user = db.session.get(User, plan[index])
        order, _ = take(user, snap["id"], index)
        return ("ok", order.id)

    results, errors = run_threads(app, len(plan), buy)
    assert errors == []
    wins = [r for r in results if isinstance(r, tuple)]
    assert len(wins) == 20
    assert {r for r in results if not isinstance(r, tuple)} <= {"sold_out", "limit_reached"}
    assert len({order_id for _, order_id in wins}) == 20  # no duplicate orders
    with app_context(app):
        db.session.remove()
        orders = db.session.scalars(select(Order).where(Order.kind == "snap")).all()
        assert len(orders) == 20 and sum(o.items[0].quantity for o in orders) == 20
        per_buyer = db.session.execute(
            select(Order.buyer_id, func.count()).group_by(Order.buyer_id)
        ).all()
        assert max(n for _, n in per_buyer) == 1
        greedy_units = db.session.scalar(
            select(func.coalesce(func.sum(SnapPurchase.quantity), 0)).where(
                SnapPurchase.user_id == greedy
            )
        )
        assert greedy_units <= 1
        assert all(b.bought <= 1 for b in db.session.scalars(select(SnapBuyer)).all()), (
            "a buyer's counter passed the limit"
        )
        db.session.remove()
    totals = snap_conservation(app, snap["id"])
    assert totals == {"initial": 20, "left": 0, "sold": 0, "pending": 20}
    assert conservation(app, product, 100) == {"remaining": 80, "sold": 0, "held": 20}


def test_parallel_requests_of_one_user_with_a_limit_of_two(app, shop, make_product, make_snap):
    product = make_product(shop, "Caps", price_cents=3000, stock=50)
    snap = make_snap(product, price_cents=1000, stock=30, per_user_limit=2)
    user_id = bulk_users(app, 1, "eager")[0]

    def buy(index):
        service.buy_snap(db.session.get(User, user_id), service.get_snap(snap["id"]), 1)
        return "ok"

    results, errors = run_threads(app, 20, buy)
    assert errors == []
    assert results.count("ok") == 2 and results.count("limit_reached") == 18
    assert snap_conservation(app, snap["id"]) == {
        "initial": 30,
        "left": 28,
        "sold": 0,
        "pending": 2,
    }


def test_thirty_members_racing_for_teams_of_three(app, shop, make_product, make_group_buy):
    product = make_product(shop, "Kayak", price_cents=50000, stock=100)
    group_buy = make_group_buy(product, group_price_cents=40000, team_size=3)
    leaders = bulk_users(app, 5, "leader")
    racers = bulk_users(app, 30, "racer")
    with app_context(app), app.test_request_context("/"):
        campaign = service.get_group_buy(group_buy["id"])
        team_ids = [
            service.start_team(db.session.get(User, uid), campaign)[0].id for uid in leaders
        ]
        db.session.commit()
        db.session.remove()
    rng = random.Random(3)
    orders_to_try = [rng.sample(team_ids, len(team_ids)) for _ in racers]

    def join(index):
        # Each racer tries teams in its own order until one takes them or all refuse.
        user = db.session.get(User, racers[index])
        refusals = []
        for team_id in orders_to_try[index]:
            try:
                service.join_team(user, service.get_team(team_id))
                return ("joined", team_id)
            except Conflict as err:
                db.session.rollback()
                refusals.append(err.code)
        return ("refused", tuple(refusals))

    results, errors = run_threads(app, len(racers), join)
    assert errors == []
    joined = [r for r in results if r[0] == "joined"]
    assert len(joined) == 10  # 5 teams x 2 free slots
    for _, refusals in (r for r in results if r[0] == "refused"):
        assert set(refusals) <= {"team_full", "team_closed"}
    with app_context(app):
        db.session.remove()
        teams = db.session.scalars(select(Team)).all()
        assert all(t.members <= 3 for t in teams)
        for team in teams:
            assert team.status == "succeeded" and team.members == 3
            roster = db.session.scalar(
                select(func.count()).select_from(TeamMember).where(TeamMember.team_id == team.id)
            )
            assert roster == 3
            confirmed = db.session.scalars(
                select(Order.status)
                .join(TeamMember, TeamMember.order_id == Order.id)
                .where(TeamMember.team_id == team.id)
            ).all()
            assert confirmed == ["pending"] * 3  # confirmed: out of "held", awaiting payment
        assert db.session.scalar(select(func.count()).select_from(Order)) == 15
        db.session.remove()
    assert conservation(app, product, 100) == {"remaining": 85, "sold": 0, "held": 15}


def test_one_team_one_slot_many_racers(app, shop, make_product, make_group_buy):
    """Many joins for the last slot of one team: exactly one gets it; the rest see full/closed."""
    product = make_product(shop, "Tent", price_cents=20000, stock=100)
    group_buy = make_group_buy(product, group_price_cents=15000, team_size=2)
    leader = bulk_users(app, 1, "lead")[0]
    racers = bulk_users(app, 25, "last")
    with app_context(app), app.test_request_context("/"):
        team_id = service.start_team(
            db.session.get(User, leader), service.get_group_buy(group_buy["id"])
        )[0].id
        db.session.commit()
        db.session.remove()

    def join(index):
        service.join_team(db.session.get(User, racers[index]), service.get_team(team_id))
        return "joined"

    results, errors = run_threads(app, len(racers), join)
    assert errors == []
    assert results.count("joined") == 1
    assert set(results) - {"joined"} <= {"team_full", "team_closed"}
    with app_context(app):
        team = db.session.get(Team, team_id)
        assert (team.status, team.members) == ("succeeded", 2)
        db.session.remove()


def test_concurrent_replays_of_one_join_make_one_membership(
    app, shop, make_product, make_group_buy
):
    product = make_product(shop, "Lamp", price_cents=9000, stock=100)
    group_buy = make_group_buy(product, group_price_cents=7000, team_size=5)
    leader, joiner = bulk_users(app, 2, "twin")
    with app_context(app), app.test_request_context("/"):
        team_id = service.start_team(
            db.session.get(User, leader), service.get_group_buy(group_buy["id"])
        )[0].id
        db.session.commit()
        db.session.remove()

    def join(index):
        team, replayed = service.join_team(
            db.session.get(User, joiner), service.get_team(team_id), idempotency_key="tap-tap"
        )
        return team.id

    results, errors = run_threads(app, 12, join)
    assert errors == []
    assert results == [team_id] * 12
    with app_context(app):
        team = db.session.get(Team, team_id)
        assert team.members == 2
        assert (
            db.session.scalar(
                select(func.count()).select_from(Order).where(Order.buyer_id == joiner)
            )
            == 1
        )
        db.session.remove()
