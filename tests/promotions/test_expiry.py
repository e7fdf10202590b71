"""Time running out, with a controllable clock: unfilled teams fail and their orders are voided
(refunded if paid) even if nobody visits; unpaid snap-up orders give their units back."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from forum.clock import now
from forum.extensions import db
from forum.notifications.models import Notification
from forum.promotions.models import Team
from forum.promotions.tasks import settle_teams
from forum.shop_embed.models import Order, Payment
from forum.shop_embed.tasks import expire_orders
from tests.conftest import app_context
from tests.fixtures.shop import ADDRESS, conservation

from .conftest import promo_counts, snap_conservation


def statuses(app) -> list[str]:
    with app_context(app):
        db.session.remove()
        result = db.session.scalars(select(Order.status).order_by(Order.id)).all()
        db.session.remove()
        return result


def test_an_unfilled_team_fails_and_its_orders_are_cancelled_or_refunded(
    app, client, product, make_group_buy, members
):
    group_buy = make_group_buy(product, team_size=3, team_window_minutes=60)
    (a, a_h), (b, b_h), (late, late_h) = members(3)
    team_id = client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=a_h).json[
        "team_id"
    ]
    client.post(f"/api/v1/teams/{team_id}/join", json={"shipping_address": ADDRESS}, headers=b_h)
    prepaid = client.get(f"/api/v1/teams/{team_id}", headers=b_h).json["my_order_id"]
    client.post(f"/api/v1/orders/{prepaid}/pay", json={"provider": "sandbox"}, headers=b_h)
    assert conservation(app, product, 50) == {"remaining": 48, "sold": 0, "held": 2}

    with time_machine.travel(now() + timedelta(minutes=59), tick=False):
        assert settle_teams.delay().get() == 0

    with time_machine.travel(now() + timedelta(minutes=61), tick=False):
        # Before any job: the campaign reads the team as failed and nobody can join it.
        listed = client.get(f"/api/v1/group-buys/{group_buy['id']}").json
        assert listed["teams"] == [] and listed["counts"]["failed"] == 1
        before = promo_counts(app)
        closed = client.post(f"/api/v1/teams/{team_id}/join", headers=late_h)
        assert closed.status_code == 409 and closed.json["error"]["code"] == "team_closed"
        assert promo_counts(app) == before

        # The job settles it although nobody visits: cancelled, and refunded where paid.
        assert settle_teams.delay().get() == 1
        assert settle_teams.delay().get() == 0  # idempotent
        assert statuses(app) == ["cancelled", "refunded"]
        with app_context(app):
            team = db.session.get(Team, team_id)
            assert team.status == "failed" and team.settled_at is not None
            payment = db.session.scalar(select(Payment).where(Payment.order_id == prepaid))
            assert payment.status == "refunded" and payment.refund_reference
            told = db.session.scalars(
                select(Notification.user_id).where(Notification.kind == "team_failed")
            ).all()
            assert sorted(told) == sorted([a.id, b.id])
        assert conservation(app, product, 50) == {"remaining": 50, "sold": 0, "held": 0}
        read = client.get(f"/api/v1/teams/{team_id}").json
        assert read["status"] == "failed"


def _a_team_of_one_with_half_an_hour(client, product, make_group_buy, members) -> int:
    group_buy = make_group_buy(product, team_size=2, team_window_minutes=30)
    ((_, headers),) = members(1)
    started = client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=headers)
    return started.json["team_id"]


def test_reading_a_team_past_its_deadline_shows_it_failed_and_the_sweep_settles_it(
    app, client, product, make_group_buy, members
):
    team_id = _a_team_of_one_with_half_an_hour(client, product, make_group_buy, members)
    with time_machine.travel(now() + timedelta(minutes=31), tick=False):
        assert client.get(f"/api/v1/teams/{team_id}").json["status"] == "failed"
        assert statuses(app) == ["held"]  # a GET writes nothing
        assert settle_teams.delay().get() == 1
        assert statuses(app) == ["cancelled"]
        assert client.get(f"/api/v1/teams/{team_id}").json["status"] == "failed"


def test_auto_complete_fills_an_expired_team_with_virtual_members(
    app, client, product, make_group_buy, members
):
    group_buy = make_group_buy(product, team_size=4, team_window_minutes=30, auto_complete=True)
    (a, a_h), (b, b_h) = members(2)
    team_id = client.post(f"/api/v1/group-buys/{group_buy['id']}/teams", headers=a_h).json[
        "team_id"
    ]
    client.post(f"/api/v1/teams/{team_id}/join", headers=b_h)
    with time_machine.travel(now() + timedelta(minutes=31), tick=False):
        # Reads already say succeeded; the job confirms the orders.
        assert client.get(f"/api/v1/group-buys/{group_buy['id']}").json["counts"]["succeeded"] == 1
        assert settle_teams.delay().get() == 1
        team = client.get(f"/api/v1/teams/{team_id}").json
        assert (team["status"], team["members"], team["virtual_members"]) == ("succeeded", 4, 2)
        assert statuses(app) == ["pending", "pending"]
        assert conservation(app, product, 50) == {"remaining": 48, "sold": 0, "held": 2}


def test_unpaid_snap_order_gives_its_stock_back(app, client, product, make_snap, members):
    snap = make_snap(product, stock=2, per_user_limit=2)
    (a, a_h), (b, b_h) = members(2)
    order_id = client.post(
        f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 2}, headers=a_h
    ).json["id"]
    refused = client.post(f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 1}, headers=b_h)
    assert refused.json["error"]["code"] == "sold_out"

    with time_machine.travel(now() + timedelta(minutes=11), tick=False):
        # No job yet: readers already count the lapsed order's units as back.
        read = client.get(f"/api/v1/snaps/{snap['id']}", headers=a_h).json
        assert (read["stock_left"], read["state"]) == (2, "live")
        # The next buyer takes them: the lapsed order is cancelled on the spot.
        bought = client.post(f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 1}, headers=b_h)
        assert bought.status_code == 201, bought.json
        assert snap_conservation(app, snap["id"]) == {
            "initial": 2,
            "left": 1,
            "sold": 0,
            "pending": 1,
        }
        expired = client.get(f"/api/v1/orders/{order_id}", headers=a_h).json
        assert expired["status"] == "cancelled" and expired["events"][-1]["type"] == "expired"
        # Its buyer's allowance is back too.
        assert client.get(f"/api/v1/snaps/{snap['id']}", headers=a_h).json["my_bought"] == 0
        pay = client.post(
            f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=a_h
        )
        assert pay.status_code == 409
    conservation(app, product, 50)


def test_the_shop_job_returns_lapsed_snap_units_even_if_nobody_visits(
    app, client, product, make_snap, members
):
    snap = make_snap(product, stock=3, per_user_limit=3)
    (a, a_h), (b, b_h) = members(2)
    unpaid = client.post(f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 2}, headers=a_h)
    paid = client.post(
        f"/api/v1/snaps/{snap['id']}/buy",
        json={"quantity": 1, "shipping_address": ADDRESS},
        headers=b_h,
    )
    client.post(f"/api/v1/orders/{paid.json['id']}/pay", json={"provider": "sandbox"}, headers=b_h)
    with time_machine.travel(now() + timedelta(minutes=10, seconds=1), tick=False):
        assert expire_orders.delay().get() == 1
        assert expire_orders.delay().get() == 0
        assert snap_conservation(app, snap["id"]) == {
            "initial": 3,
            "left": 2,
            "sold": 1,
            "pending": 0,
        }
        with app_context(app):
            assert db.session.get(Order, unpaid.json["id"]).status == "cancelled"
    assert conservation(app, product, 50) == {"remaining": 49, "sold": 1, "held": 0}


def test_the_snap_payment_window_is_configurable(app, client, product, make_snap, buyer_headers):
    app.config["SNAP_PAYMENT_WINDOW_MINUTES"] = 3
    snap = make_snap(product, stock=1, per_user_limit=1)
    client.post(f"/api/v1/snaps/{snap['id']}/buy", json={"quantity": 1}, headers=buyer_headers)
    with time_machine.travel(now() + timedelta(minutes=2), tick=False):
        assert client.get(f"/api/v1/snaps/{snap['id']}").json["stock_left"] == 0
    with time_machine.travel(now() + timedelta(minutes=3, seconds=1), tick=False):
        assert client.get(f"/api/v1/snaps/{snap['id']}").json["stock_left"] == 1


def test_the_team_page_says_what_is_true_before_and_after_the_sweep_settles_it(
    app, client, product, make_group_buy, members
):
    team_id = _a_team_of_one_with_half_an_hour(client, product, make_group_buy, members)
    with time_machine.travel(now() + timedelta(minutes=31), tick=False):
        unsettled = client.get(f"/promotions/teams/{team_id}").get_data(as_text=True)
        assert 'data-team-status="failed"' in unsettled
        assert "orders will be cancelled or refunded shortly" in unsettled
        assert "its orders were cancelled" not in unsettled
        assert statuses(app) == ["held"]  # the wording did not pretend, and nothing was written
        # The roster's names open the user card, like names elsewhere.
        roster = unsettled.split("team-roster", 1)[1].split("</ul>", 1)[0]
        assert "data-user-card=" in roster and 'aria-haspopup="dialog"' in roster

        assert settle_teams.delay().get() == 1
        settled = client.get(f"/promotions/teams/{team_id}").get_data(as_text=True)
        assert "This team did not fill in time; its orders were cancelled." in settled
        assert "shortly" not in settled
        assert statuses(app) == ["cancelled"]
