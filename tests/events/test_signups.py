"""Seats, the waitlist, promotion, deadlines and duplicates."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from forum.clock import now
from forum.extensions import db
from forum.notifications.models import Notification


def notifications_for(app, user, kind):
    with app.app_context():
        return db.session.scalars(
            select(Notification.text).where(
                Notification.user_id == user.id, Notification.kind == kind
            )
        ).all()


def test_seats_fill_in_order_then_the_waitlist_numbers_people(
    make_user, make_event, sign_up, signups_of, event_row
):
    event_id = make_event(capacity=2)
    people = [make_user(f"mem{i}") for i in range(5)]
    results = [sign_up(person, event_id) for person in people]
    assert results == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
        ("waitlisted", 3),
    ]
    assert event_row(event_id) == {"seats_taken": 2, "capacity": 2, "waitlist_counter": 3}
    assert signups_of(event_id)["mem4"] == ("waitlisted", 3)


def test_cancelling_a_seat_promotes_the_first_waitlisted_and_tells_them(
    app, make_user, make_event, sign_up, signups_of, event_row, api
):
    event_id = make_event(capacity=2)
    first, second, third, fourth = (make_user(n) for n in ("ann", "ben", "cat", "dan"))
    for person in (first, second, third, fourth):
        sign_up(person, event_id)
    response = api(first)("DELETE", f"/events/{event_id}/signup")
    assert response.status_code == 204
    state = signups_of(event_id)
    assert state == {
        "ann": ("cancelled", None),
        "ben": ("confirmed", None),
        "cat": ("confirmed", None),
        "dan": ("waitlisted", 1),
    }
    assert event_row(event_id)["seats_taken"] == 2
    assert notifications_for(app, third, "event_promoted") == [
        "A seat opened up: you're confirmed for “Board-game night”!"
    ]
    assert notifications_for(app, fourth, "event_promoted") == []


def test_a_waitlisted_member_leaving_closes_the_gap(
    make_user, make_event, sign_up, signups_of, api
):
    event_id = make_event(capacity=1)
    people = [make_user(n) for n in ("aa1", "aa2", "aa3", "aa4")]
    for person in people:
        sign_up(person, event_id)
    assert api(people[2])("DELETE", f"/events/{event_id}/signup").status_code == 204
    state = signups_of(event_id)
    assert state["aa2"] == ("waitlisted", 1) and state["aa4"] == ("waitlisted", 2)
    assert state["aa1"] == ("confirmed", None)


def test_duplicate_sign_up_is_refused_and_writes_nothing(
    app, make_user, make_event, sign_up, api, event_row
):
    event_id = make_event(capacity=5)
    member = make_user("dup")
    assert api(member)("POST", f"/events/{event_id}/signup").status_code == 201
    again = api(member)("POST", f"/events/{event_id}/signup")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_signed_up"
    assert event_row(event_id)["seats_taken"] == 1


def test_cancelled_member_can_sign_up_again_at_the_back(
    make_user, make_event, sign_up, signups_of, api
):
    event_id = make_event(capacity=1)
    a, b, c = make_user("xx1"), make_user("xx2"), make_user("xx3")
    for person in (a, b, c):
        sign_up(person, event_id)
    assert api(b)("DELETE", f"/events/{event_id}/signup").status_code == 204
    assert sign_up(b, event_id) == ("waitlisted", 2)
    assert signups_of(event_id) == {
        "xx1": ("confirmed", None),
        "xx2": ("waitlisted", 2),
        "xx3": ("waitlisted", 1),
    }


def test_sign_ups_close_at_the_deadline(make_user, make_event, api, event_row):
    deadline = now() + timedelta(days=1)
    event_id = make_event(capacity=5, signup_deadline=deadline)
    early, late = make_user("early"), make_user("late")
    assert api(early)("POST", f"/events/{event_id}/signup").status_code == 201
    with time_machine.travel(deadline + timedelta(seconds=1)):
        response = api(late)("POST", f"/events/{event_id}/signup")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "signups_closed"
    assert "deadline" in response.get_json()["error"]["message"]
    assert event_row(event_id)["seats_taken"] == 1


def test_sign_ups_close_at_the_start_and_cancelling_after_it_is_refused(
    make_user, make_event, api, signups_of
):
    event_id = make_event(capacity=5, starts_in=timedelta(hours=5))
    member, latecomer = make_user("member1"), make_user("latecomer")
    assert api(member)("POST", f"/events/{event_id}/signup").status_code == 201
    with time_machine.travel(now() + timedelta(hours=6)):
        refused = api(latecomer)("POST", f"/events/{event_id}/signup")
        cancel = api(member)("DELETE", f"/events/{event_id}/signup")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "signups_closed"
    assert cancel.status_code == 409 and cancel.get_json()["error"]["code"] == "event_started"
    assert signups_of(event_id) == {"member1": ("confirmed", None)}


def test_unlimited_events_confirm_everyone(make_user, make_event, sign_up, event_row):
    event_id = make_event(capacity=None)
    assert [sign_up(make_user(f"user{i}"), event_id) for i in range(4)] == [("confirmed", None)] * 4
    assert event_row(event_id)["seats_taken"] == 4


def test_cancelling_without_a_sign_up_is_404(make_user, make_event, api):
    event_id = make_event()
    response = api(make_user("nobody"))("DELETE", f"/events/{event_id}/signup")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_signed_up"


def test_idempotency_key_replays_the_first_answer_and_creates_nothing(
    app, make_user, make_event, api, event_row
):
    from forum.events.models import Signup, SignupRequest

    event_id = make_event(capacity=1)
    make_user("taker")
    api(make_user("first"))("POST", f"/events/{event_id}/signup")
    member = make_user("retrier")
    client = api(member)
    first = client("POST", f"/events/{event_id}/signup", headers={"Idempotency-Key": "abc-123"})
    second = client("POST", f"/events/{event_id}/signup", headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == second.status_code == 201
    assert first.get_json()["status"] == "waitlisted" and first.get_json()["position"] == 1
    assert second.get_json() == first.get_json()
    # A new key is a new request: the member is already signed up.
    third = client("POST", f"/events/{event_id}/signup", headers={"Idempotency-Key": "other"})
    assert third.status_code == 409
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Signup).where(Signup.user_id == member.id)
            )
            == 1
        )
        assert db.session.scalar(select(func.count()).select_from(SignupRequest)) == 1
    assert event_row(event_id)["waitlist_counter"] == 1


def test_idempotency_key_is_per_user_and_per_event(make_user, make_event, api):
    event_id, other_event = make_event(capacity=3), make_event(capacity=3)
    a, b = make_user("kaa"), make_user("kbb")
    assert (
        api(a)(
            "POST", f"/events/{event_id}/signup", headers={"Idempotency-Key": "same"}
        ).status_code
        == 201
    )
    assert (
        api(b)(
            "POST", f"/events/{event_id}/signup", headers={"Idempotency-Key": "same"}
        ).status_code
        == 201
    )
    reused = api(a)("POST", f"/events/{other_event}/signup", headers={"Idempotency-Key": "same"})
    assert reused.status_code == 422
    assert reused.get_json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in reused.get_json()["error"]["fields"]


def test_host_raising_capacity_promotes_from_the_waitlist(
    app, make_user, make_event, host, sign_up, signups_of, api
):
    event_id = make_event(capacity=1)
    for name in ("cc1", "cc2", "cc3"):
        sign_up(make_user(name), event_id)
    response = api(host)("PATCH", f"/events/{event_id}", json={"capacity": 2})
    assert response.status_code == 200
    assert response.get_json()["seats_left"] == 0 and response.get_json()["waitlist_count"] == 1
    assert signups_of(event_id) == {
        "cc1": ("confirmed", None),
        "cc2": ("confirmed", None),
        "cc3": ("waitlisted", 1),
    }
    lower = api(host)("PATCH", f"/events/{event_id}", json={"capacity": 1})
    assert lower.status_code == 422 and "capacity" in lower.get_json()["error"]["fields"]


def test_suspended_members_cannot_sign_up(app, make_user, make_event, api, event_row):
    from forum.accounts.models import User

    event_id = make_event()
    member = make_user("suspended")
    client = api(member)
    with app.app_context():
        db.session.get(User, member.id).suspended_until = now() + timedelta(days=1)
        db.session.commit()
    response = client("POST", f"/events/{event_id}/signup")
    assert response.status_code in (401, 403)
    assert event_row(event_id)["seats_taken"] == 0


@pytest.mark.parametrize("cancelled_by_host", [True])
def test_cancelled_event_refuses_sign_ups_and_tells_participants(
    app, make_user, make_event, host, api, cancelled_by_host
):
    event_id = make_event()
    member = make_user("joined")
    api(member)("POST", f"/events/{event_id}/signup")
    assert api(host)("POST", f"/events/{event_id}/cancel").status_code == 200
    refused = api(make_user("after"))("POST", f"/events/{event_id}/signup")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "signups_closed"
    assert notifications_for(app, member, "event_cancelled")
