"""Host-only actions (others get 403), check-in at the door, messages, attendance."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from forum.clock import now
from forum.events.tasks import record_no_shows
from forum.extensions import db
from forum.notifications.models import Notification
from tests.conftest import login


@pytest.fixture
def party(make_user, make_event, sign_up):
    """An event with two confirmed guests and one waiting; returns the people and the id."""
    event_id = make_event(capacity=2, starts_in=timedelta(hours=2))
    guests = [make_user(name) for name in ("gina", "hugo", "iris")]
    for guest in guests:
        sign_up(guest, event_id)
    return event_id, guests


def code_of(app, event_id, user):
    from forum.events.models import Signup

    with app.app_context():
        return db.session.scalar(
            select(Signup.checkin_code).where(
                Signup.event_id == event_id, Signup.user_id == user.id
            )
        )


def test_only_the_host_can_use_host_tools(app, party, make_user, api, signups_of):
    event_id, guests = party
    stranger = api(make_user("stranger"))
    guest = api(guests[0])
    code = code_of(app, event_id, guests[1])
    attempts = [
        ("GET", f"/events/{event_id}/participants", None),
        ("DELETE", f"/events/{event_id}/participants/{guests[1].id}", None),
        ("POST", f"/events/{event_id}/checkin", {"code": code}),
        ("POST", f"/events/{event_id}/messages", {"body": "hello"}),
        ("PATCH", f"/events/{event_id}", {"capacity": 50}),
        ("POST", f"/events/{event_id}/cancel", None),
    ]
    before = signups_of(event_id)
    for client in (stranger, guest):
        for method, path, payload in attempts:
            response = client(method, path, json=payload)
            assert response.status_code == 403, (method, path, response.get_json())
            assert response.get_json()["error"]["code"] == "not_host"
    assert signups_of(event_id) == before
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.kind == "event_message")
            )
            == 0
        )


def test_host_pages_are_403_for_others(app, party, make_user):
    event_id, guests = party
    client = app.test_client()
    login(client, guests[0])
    assert client.get(f"/events/{event_id}/manage").status_code == 403
    assert client.get(f"/events/{event_id}/edit").status_code == 403
    assert client.post(f"/events/{event_id}/remove/{guests[1].id}").status_code == 403
    assert client.post(f"/events/{event_id}/message", data={"body": "spam"}).status_code == 403
    assert client.post(f"/events/{event_id}/call-off").status_code == 403


def test_moderators_may_act_for_the_host(party, make_user, api):
    event_id, _ = party
    response = api(make_user("modder", role="moderator"))("GET", f"/events/{event_id}/participants")
    assert response.status_code == 200
    assert [p["status"] for p in response.get_json()["items"]] == [
        "confirmed",
        "confirmed",
        "waitlisted",
    ]


def test_host_removes_a_participant_and_the_waitlist_moves_up(app, party, host, api, signups_of):
    event_id, (gina, hugo, iris) = party
    removed = api(host)(
        "DELETE", f"/events/{event_id}/participants/{gina.id}", json={"reason": "Double-booked"}
    )
    assert removed.status_code == 204
    assert signups_of(event_id) == {
        "gina": ("removed", None),
        "hugo": ("confirmed", None),
        "iris": ("confirmed", None),
    }
    with app.app_context():
        kinds = set(
            db.session.scalars(
                select(Notification.kind).where(Notification.user_id.in_([gina.id, iris.id]))
            )
        )
    assert {"event_removed", "event_promoted"} <= kinds
    rejoin = api(gina)("POST", f"/events/{event_id}/signup")
    assert rejoin.status_code == 403 and rejoin.get_json()["error"]["code"] == "removed_by_host"


def test_message_reaches_every_participant(app, party, host, api):
    event_id, guests = party
    response = api(host)(
        "POST", f"/events/{event_id}/messages", json={"body": "Doors open at 7, bring snacks!"}
    )
    assert response.status_code == 201 and response.get_json()["recipients"] == 3
    with app.app_context():
        told = set(
            db.session.scalars(
                select(Notification.user_id).where(Notification.kind == "event_message")
            )
        )
    assert told == {g.id for g in guests}
    empty = api(host)("POST", f"/events/{event_id}/messages", json={"body": "   "})
    assert empty.status_code == 422 and "body" in empty.get_json()["error"]["fields"]


def test_check_in_by_code_once_and_only_for_confirmed(app, party, host, api):
    event_id, (gina, hugo, iris) = party
    door = api(host)
    gina_code = code_of(app, event_id, gina)
    checked = door(
        "POST",
        f"/events/{event_id}/checkin",
        json={"code": gina_code.lower()[:4] + "-" + gina_code.lower()[4:]},
    )
    assert checked.status_code == 200, checked.get_json()
    assert checked.get_json()["user"]["username"] == "gina" and checked.get_json()["checked_in_at"]
    again = door("POST", f"/events/{event_id}/checkin", json={"code": gina_code})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_checked_in"
    waiting = door(
        "POST", f"/events/{event_id}/checkin", json={"code": code_of(app, event_id, iris)}
    )
    assert waiting.status_code == 409 and waiting.get_json()["error"]["code"] == "not_confirmed"
    unknown = door("POST", f"/events/{event_id}/checkin", json={"code": "ZZZZZZZZ"})
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_code"
    participants = door("GET", f"/events/{event_id}/participants").get_json()["items"]
    assert {
        p["user"]["username"]: p["attendance"] for p in participants if p["status"] == "confirmed"
    } == {"gina": "attended", "hugo": None}


def test_check_in_is_not_open_days_before(app, make_user, make_event, host, sign_up, api):
    event_id = make_event(capacity=3, starts_in=timedelta(days=3))
    guest = make_user("eager")
    sign_up(guest, event_id)
    response = api(host)(
        "POST", f"/events/{event_id}/checkin", json={"code": code_of(app, event_id, guest)}
    )
    assert (
        response.status_code == 409 and response.get_json()["error"]["code"] == "checkin_not_open"
    )


def test_attendance_is_kept_after_the_event(app, party, host, api):
    from forum.events.models import Signup

    event_id, (gina, hugo, _) = party
    api(host)("POST", f"/events/{event_id}/checkin", json={"code": code_of(app, event_id, gina)})
    with time_machine.travel(now() + timedelta(hours=5)):
        assert record_no_shows.delay().get() == 1
        assert record_no_shows.delay().get() == 0
        participants = api(host)("GET", f"/events/{event_id}/participants").get_json()["items"]
    with app.app_context():
        stored = dict(
            db.session.execute(
                select(Signup.user_id, Signup.attendance).where(Signup.event_id == event_id)
            ).all()
        )
    assert stored[gina.id] == "attended" and stored[hugo.id] == "no_show"
    assert {p["user"]["username"]: p["attendance"] for p in participants}["hugo"] == "no_show"


def test_check_in_page_flow(app, party, host):
    event_id, (gina, _, _) = party
    client = app.test_client()
    login(client, host)
    code = code_of(app, event_id, gina)
    page = client.get(f"/events/{event_id}/manage?code={code}").get_data(as_text=True)
    assert f'value="{code}"' in page and "gina" in page
    response = client.post(f"/events/{event_id}/checkin", data={"code": code})
    assert response.status_code == 302
    assert "✓" in client.get(f"/events/{event_id}/manage").get_data(as_text=True)


def test_a_refused_check_in_is_a_note_on_the_manage_page_or_json(app, party, host):
    event_id, (_, _, iris) = party
    client = app.test_client()
    login(client, host)
    refused = client.post(f"/events/{event_id}/checkin", data={"code": "ZZZZZZZZ"})
    assert refused.status_code == 302
    assert refused.headers["Location"].endswith(f"/events/{event_id}/manage")
    waiting = client.post(
        f"/events/{event_id}/checkin",
        data={"code": code_of(app, event_id, iris)},
        headers={"Accept": "application/json"},
    )
    assert waiting.status_code == 409 and waiting.get_json()["error"]["code"] == "not_confirmed"
