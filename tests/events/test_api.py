"""The Events part of the API contract, and bad input refused with nothing written."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from forum.clock import now
from forum.extensions import db


def iso(moment: datetime) -> str:
    return moment.isoformat()


def body(**overrides):
    starts = now() + timedelta(days=3)
    data = {
        "title": "Photo walk by the river",
        "description": "Meet at the bridge. <script>alert(1)</script> **Cameras** welcome.",
        "starts_at": iso(starts.astimezone(UTC)),
        "ends_at": iso(starts + timedelta(hours=2)),
        "location": "Old Bridge",
        "capacity": 12,
    }
    data.update(overrides)
    return data


def count_events(app) -> int:
    from forum.events.models import Event

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


def test_create_then_read_an_event(app, make_user, api):
    host = make_user("walker")
    created = api(host)("POST", "/events", json=body())
    assert created.status_code == 201, created.get_json()
    event = created.get_json()
    assert event["title"] == "Photo walk by the river"
    assert event["capacity"] == 12 and event["seats_left"] == 12 and event["waitlist_count"] == 0
    assert event["host"] == {"id": host.id, "username": "walker", "trust_level": 1}
    assert (
        "<script>" not in event["description_html"]
        and "<strong>Cameras</strong>" in event["description_html"]
    )
    assert event["starts_at"].endswith("+00:00")

    public = api()("GET", f"/events/{event['id']}")
    assert public.status_code == 200
    data = public.get_json()
    assert data["seats_left"] == 12 and data["waitlist_count"] == 0 and "my_signup" not in data


def test_times_with_any_offset_are_stored_and_returned_in_utc(make_user, api):
    response = api(make_user("tzhost"))(
        "POST",
        "/events",
        json=body(starts_at="2031-03-10T18:00:00+02:00", ends_at="2031-03-10T20:30:00+02:00"),
    )
    assert response.status_code == 201
    assert response.get_json()["starts_at"] == "2031-03-10T16:00:00+00:00"
    assert response.get_json()["ends_at"] == "2031-03-10T18:30:00+00:00"


def test_sign_up_answers_and_seats_move(make_user, make_event, api):
    event_id = make_event(capacity=1)
    first = api(make_user("one"))("POST", f"/events/{event_id}/signup")
    second = api(make_user("two"))("POST", f"/events/{event_id}/signup")
    assert (
        first.status_code == 201
        and first.get_json()["status"] == "confirmed"
        and first.get_json()["position"] is None
    )
    assert second.status_code == 201 and second.get_json() | {"checkin_code": None} == {
        "status": "waitlisted",
        "position": 1,
        "event_id": event_id,
        "checkin_code": None,
    }
    state = api()("GET", f"/events/{event_id}").get_json()
    assert state["seats_left"] == 0 and state["waitlist_count"] == 1


def test_my_signup_shows_position_and_code(make_user, make_event, api):
    event_id = make_event(capacity=1)
    api(make_user("front"))("POST", f"/events/{event_id}/signup")
    member = api(make_user("back"))
    member("POST", f"/events/{event_id}/signup")
    mine = member("GET", f"/events/{event_id}/signup").get_json()
    assert (
        mine["status"] == "waitlisted" and mine["position"] == 1 and len(mine["checkin_code"]) == 8
    )
    assert member("GET", f"/events/{event_id}").get_json()["my_signup"]["position"] == 1
    assert member("GET", "/me/events").get_json()["items"][0]["signup"]["status"] == "waitlisted"


def test_anonymous_callers_must_log_in(make_event, api):
    event_id = make_event()
    for method, path in (
        ("POST", "/events"),
        ("POST", f"/events/{event_id}/signup"),
        ("DELETE", f"/events/{event_id}/signup"),
    ):
        response = api()(method, path, json=body() if path == "/events" else None)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "not_authenticated"


def test_unknown_event_is_404(make_user, api):
    assert api()("GET", "/events/999").status_code == 404
    response = api(make_user("lost"))("POST", "/events/999/signup")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"ends_at": "START_MINUS_1H"}, "ends_at", "after the start"),
        ({"capacity": -5}, "capacity", "can't be negative"),
        ({"capacity": 0}, "capacity", "at least 1"),
        ({"starts_at": "PAST", "ends_at": "PAST_PLUS_1H"}, "starts_at", "in the future"),
        ({"title": "x"}, "title", "3-200"),
        ({"starts_at": "2031-03-10T18:00:00"}, "starts_at", "UTC offset"),
        ({"starts_at": "next tuesday"}, "starts_at", "ISO 8601"),
        ({"location": "", "online_url": None}, "location", "place, an online link"),
        ({"online_url": "javascript:alert(1)"}, "online_url", "http"),
        ({"signup_deadline": "AFTER_START"}, "signup_deadline", "no later than the start"),
        ({"sponsor_id": "MEMBER"}, "sponsor_id", "merchant"),
        ({"cover_colour": "plaid"}, "cover_colour", "Choose one of"),
        ({"discussion_category": "nope"}, "discussion_category", "No such category"),
    ],
)
def test_bad_input_is_refused_with_clear_errors_and_nothing_is_written(
    app, make_user, api, overrides, field, words
):
    member = make_user("planner")
    data = body()
    starts = datetime.fromisoformat(data["starts_at"])
    replacements = {
        "START_MINUS_1H": iso(starts - timedelta(hours=1)),
        "PAST": iso(now() - timedelta(days=1)),
        "PAST_PLUS_1H": iso(now() - timedelta(days=1) + timedelta(hours=1)),
        "AFTER_START": iso(starts + timedelta(minutes=30)),
        "MEMBER": member.id,
    }
    data.update(
        {
            key: replacements.get(value, value) if isinstance(value, str) else value
            for key, value in overrides.items()
        }
    )
    response = api(member)("POST", "/events", json=data)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert field in error["fields"], error
    assert any(words in message for message in error["fields"][field]), error
    assert count_events(app) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "Missing times"},
        {**body(), "capacity": "ten"},
        {**body(), "capacity": True},
        {**body(), "extra": 1},
    ],
)
def test_malformed_bodies_are_422_with_fields(app, make_user, api, payload):
    response = api(make_user("sloppy"))("POST", "/events", json=payload)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]
    assert count_events(app) == 0


def test_non_json_body_is_422(app, make_user, api):
    client = api(make_user("garbage"))
    response = client.client.post(
        "/api/v1/events",
        data="{not json",
        headers={**client.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_json"
    assert count_events(app) == 0


def test_bad_idempotency_key_is_422_and_writes_nothing(make_user, make_event, api, event_row):
    event_id = make_event()
    response = api(make_user("keyed"))(
        "POST", f"/events/{event_id}/signup", headers={"Idempotency-Key": "x" * 201}
    )
    assert (
        response.status_code == 422 and "Idempotency-Key" in response.get_json()["error"]["fields"]
    )
    assert event_row(event_id)["seats_taken"] == 0


def test_discussion_thread_is_opened_in_the_chosen_category(app, make_user, make_category, api):
    make_category("meetups")
    response = api(make_user("talker"))("POST", "/events", json=body(discussion_category="meetups"))
    assert response.status_code == 201
    thread_id = response.get_json()["thread_id"]
    thread = api()("GET", f"/threads/{thread_id}").get_json()
    assert thread["category"] == "meetups" and thread["title"] == "Photo walk by the river"
    first_post = thread["posts"]["items"][0]
    assert (
        first_post["embeds"][0]["kind"] == "event"
        and first_post["embeds"][0]["id"] == response.get_json()["id"]
    )


def test_merchant_sponsor_is_shown_once_it_accepts(make_user, api):
    merchant = make_user("shopkeep", role="merchant")
    response = api(make_user("sponsored"))("POST", "/events", json=body(sponsor_id=merchant.id))
    assert response.status_code == 201
    created = response.get_json()
    assert created["sponsor"] is None
    assert created["sponsor_request"]["merchant"] == {
        "id": merchant.id,
        "username": "shopkeep",
        "trust_level": 1,
    }
    accepted = api(merchant)("POST", f"/events/{created['id']}/sponsorship/accept")
    assert accepted.status_code == 200
    assert accepted.get_json()["sponsor"] == {
        "id": merchant.id,
        "username": "shopkeep",
        "trust_level": 1,
    }


def test_listing_upcoming_and_past(make_user, make_event, api):
    import time_machine

    soon = make_event(title="Soon event", starts_in=timedelta(days=1))
    later = make_event(title="Later event", starts_in=timedelta(days=5))
    upcoming = api()("GET", "/events?limit=1").get_json()
    assert [e["id"] for e in upcoming["items"]] == [soon]
    more = api()("GET", f"/events?limit=1&cursor={upcoming['next_cursor']}").get_json()
    assert [e["id"] for e in more["items"]] == [later] and more["next_cursor"] is None
    with time_machine.travel(now() + timedelta(days=3)):
        past = api()("GET", "/events?when=past").get_json()
        assert [e["id"] for e in past["items"]] == [soon]
    assert api()("GET", "/events?when=someday").status_code == 422
    assert api()("GET", "/events?cursor=@@@").status_code == 422


def test_openapi_lists_the_event_endpoints(api):
    paths = api()("GET", "/openapi.json").get_json()["paths"]
    assert {"post", "delete"} <= set(paths["/api/v1/events/{event_id}/signup"])
    assert "post" in paths["/api/v1/events"]
