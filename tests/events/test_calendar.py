"""iCalendar export, parsed back with the icalendar library."""

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from forum.clock import now
from forum.extensions import db
from tests.conftest import login


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.data)


def test_event_ics_is_valid_and_carries_the_event(client, make_event, app):
    from forum.events.models import Event

    event_id = make_event(
        title="Sourdough workshop",
        location="Community kitchen",
        online_url="https://meet.example.com/x",
    )
    calendar = parse(client.get(f"/events/{event_id}.ics"))
    assert str(calendar["version"]) == "2.0" and "Plaza" in str(calendar["prodid"])
    (vevent,) = calendar.walk("VEVENT")
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert vevent.decoded("dtstart") == event.starts_at
        assert vevent.decoded("dtend") == event.ends_at
    assert str(vevent["summary"]) == "Sourdough workshop"
    assert str(vevent["uid"]) == f"plaza-event-{event_id}@localhost"
    assert "Community kitchen" in str(vevent["location"]) and "https://meet.example.com/x" in str(
        vevent["location"]
    )
    assert f"/events/{event_id}" in str(vevent["url"])
    assert str(vevent["status"]) == "CONFIRMED"
    assert int(vevent["sequence"]) == 0


def test_changes_bump_sequence_and_cancellation_shows(client, make_event, host, api):
    event_id = make_event()
    later = now() + timedelta(days=4)
    api(host)(
        "PATCH",
        f"/events/{event_id}",
        json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat()},
    )
    (vevent,) = parse(client.get(f"/events/{event_id}.ics")).walk("VEVENT")
    assert int(vevent["sequence"]) == 1
    api(host)("POST", f"/events/{event_id}/cancel")
    (vevent,) = parse(client.get(f"/events/{event_id}.ics")).walk("VEVENT")
    assert str(vevent["status"]) == "CANCELLED"


def test_unknown_event_ics_is_404(client):
    assert client.get("/events/4242.ics").status_code == 404


def test_member_feed_works_without_a_session_and_lists_their_events(
    app, make_user, make_event, sign_up
):
    from forum.events.models import CalendarFeed

    member = make_user("subscriber")
    kept = make_event(title="Kept event", capacity=1)
    waiting = make_event(title="Waiting event", capacity=1)
    dropped = make_event(title="Dropped event")
    make_event(title="Never joined")
    sign_up(member, kept)
    sign_up(make_user("seatholder"), waiting)
    sign_up(member, waiting)
    sign_up(member, dropped)
    browser = app.test_client()
    login(browser, member)
    browser.post(f"/events/{dropped}/cancel")
    page = browser.get("/events/mine").get_data(as_text=True)
    with app.app_context():
        token = db.session.scalar(
            select(CalendarFeed.token).where(CalendarFeed.user_id == member.id)
        )
    assert f"/events/feed/{token}.ics" in page

    calendar_app = app.test_client()  # no cookies: a calendar app
    calendar = parse(calendar_app.get(f"/events/feed/{token}.ics"))
    summaries = {str(e["summary"]): str(e["status"]) for e in calendar.walk("VEVENT")}
    assert summaries == {"Kept event": "CONFIRMED", "[Waitlist] Waiting event": "TENTATIVE"}

    assert calendar_app.get("/events/feed/not-a-real-token-at-all-xx.ics").status_code == 404
    browser.post("/events/mine/feed/reset")
    assert calendar_app.get(f"/events/feed/{token}.ics").status_code == 404
