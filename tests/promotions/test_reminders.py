""" "Remind me": one notification when an upcoming snap-up or auction starts, sent once by the
job however late it runs, and none once the offer is over."""

from datetime import timedelta

import time_machine

from forum.clock import now
from forum.notifications.models import Notification
from forum.promotions.tasks import send_reminders

from .games_helpers import at, count, make_auction, make_game, rows


def test_a_reminder_is_sent_once_at_the_start_even_when_the_job_runs_late(
    app, client, shop, product, members, make_snap
):
    (a, a_h), (b, b_h) = members(2)
    auction = make_auction(
        client, shop, product, starts_at=(now() + timedelta(minutes=30)).isoformat()
    )
    made = client.post(
        "/api/v1/reminders", json={"kind": "auction", "id": auction["id"]}, headers=a_h
    )
    assert made.status_code == 201 and made.json == {
        "kind": "auction",
        "id": auction["id"],
        "remind_at": auction["starts_at"],
        "sent": False,
    }
    again = client.post(
        "/api/v1/reminders", json={"kind": "auction", "id": auction["id"]}, headers=a_h
    )
    assert again.status_code == 201  # asking twice keeps one reminder
    assert (
        client.post(
            "/api/v1/reminders", json={"kind": "auction", "id": 9999}, headers=a_h
        ).status_code
        == 404
    )
    assert (
        client.post("/api/v1/reminders", json={"kind": "raffle", "id": 1}, headers=a_h).status_code
        == 422
    )
    assert (
        client.post("/api/v1/reminders", json={"kind": "auction", "id": auction["id"]}).status_code
        == 401
    )
    with time_machine.travel(now() + timedelta(minutes=29), tick=False):
        assert send_reminders.delay().get() == 0
    with time_machine.travel(at(auction["starts_at"]) + timedelta(minutes=2), tick=False):  # late
        assert send_reminders.delay().get() == 1
        assert send_reminders.delay().get() == 0
    [note] = rows(app, Notification, Notification.kind == "offer_reminder")
    assert note.user_id == a.id and "has started" in note.text
    with time_machine.travel(at(auction["starts_at"]) + timedelta(seconds=1), tick=False):
        started = client.post(
            "/api/v1/reminders", json={"kind": "auction", "id": auction["id"]}, headers=b_h
        )
        assert started.status_code == 409 and started.json["error"]["code"] == "already_started"


def test_a_reminder_due_after_the_offer_ended_tells_nobody(
    app, client, shop, product, members, make_snap
):
    ((a, a_h),) = members(1)
    snap = make_snap(
        product,
        starts_at=(now() + timedelta(minutes=10)).isoformat(),
        ends_at=(now() + timedelta(minutes=20)).isoformat(),
    )
    assert (
        client.post(
            "/api/v1/reminders", json={"kind": "snap", "id": snap["id"]}, headers=a_h
        ).status_code
        == 201
    )
    game = make_game(client, shop, product, ends_at=(now() + timedelta(hours=2)).isoformat())
    assert (
        client.post(
            "/api/v1/reminders", json={"kind": "guess", "id": game["id"]}, headers=a_h
        ).status_code
        == 201
    )
    with time_machine.travel(now() + timedelta(hours=1, minutes=50), tick=False):
        assert send_reminders.delay().get() == 1  # the game (15 minutes before it closes)
    assert count(app, Notification, Notification.kind == "offer_reminder") == 1
