"""The HTML side: listing, month view, event page, forms, the embedded card and live seats."""

import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from forum.clock import now
from forum.extensions import db, socketio
from tests.conftest import login


def logged_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def test_listing_calendar_and_event_page_render(app, client, make_event):
    event_id = make_event(title="Saturday board-game night")
    assert "Saturday board-game night" in client.get("/events").get_data(as_text=True)
    month = (now() + timedelta(days=2)).strftime("%Y-%m")
    calendar = client.get(f"/events/calendar?month={month}").get_data(as_text=True)
    assert f'href="/events/{event_id}"' in calendar
    assert client.get("/events/calendar?month=garbage").status_code == 404
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "Log in to sign up" in page and "<strong>you love</strong>" in page
    assert f'data-live-room="event:{event_id}"' in page
    assert client.get("/events?when=past").status_code == 200
    assert client.get("/events?when=bogus").status_code == 404


def test_sign_up_and_cancel_through_the_page(app, make_user, make_event, signups_of):
    event_id = make_event(capacity=1)
    first, second = make_user("pagea"), make_user("pageb")
    a, b = logged_in(app, first), logged_in(app, second)
    assert a.post(f"/events/{event_id}/signup").status_code == 302
    assert "✓ You're in" in a.get(f"/events/{event_id}").get_data(as_text=True)
    b.post(f"/events/{event_id}/signup")
    assert "Waitlist · #1" in b.get(f"/events/{event_id}").get_data(as_text=True)
    a.post(f"/events/{event_id}/cancel")
    assert signups_of(event_id) == {"pagea": ("cancelled", None), "pageb": ("confirmed", None)}
    ticket = b.get(f"/events/{event_id}/ticket").get_data(as_text=True)
    assert re.search(r'class="ticket-code"[^>]*>[A-Z0-9]{8}<', ticket)
    assert a.get(f"/events/{event_id}/ticket").status_code == 404


def test_json_sign_up_from_a_card_reports_seats(app, make_user, make_event):
    event_id = make_event(capacity=3)
    client = logged_in(app, make_user("carder"))
    response = client.post(f"/events/{event_id}/signup", headers={"Accept": "application/json"})
    assert response.status_code == 201
    assert response.get_json() | {"checkin_code": None, "version": None} == {
        "status": "confirmed",
        "position": None,
        "event_id": event_id,
        "checkin_code": None,
        "capacity": 3,
        "seats_taken": 1,
        "seats_left": 2,
        "waitlist_count": 0,
        "signups_open": True,
        "cancelled": False,
        "version": None,
    }
    again = client.post(f"/events/{event_id}/signup", headers={"Accept": "application/json"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_signed_up"


def test_event_card_in_a_thread_is_live_and_personal(
    app, make_user, make_event, make_thread, sign_up
):
    event_id = make_event(capacity=4)
    author = make_user("poster")
    thread_id = make_thread(author, body=f"Who's coming?\n\n[[event:{event_id}]]")
    sign_up(author, event_id)
    anonymous = app.test_client().get(f"/t/{thread_id}").get_data(as_text=True)
    assert "data-event-card" in anonymous and f'data-live-room="event:{event_id}"' in anonymous
    assert "data-seats-left>3<" in anonymous and "data-event-signup" in anonymous
    assert (
        "csrf_token" not in anonymous.split("data-event-card", 1)[1].split("</div>\n</div>", 1)[0]
    )
    assert anonymous.count("js/events.js") == 1
    mine = logged_in(app, author).get(f"/t/{thread_id}").get_data(as_text=True)
    assert "✓ You're in" in mine
    missing = make_thread(author, title="Ghost event", body="[[event:9999]]")
    assert "Offer unavailable" in app.test_client().get(f"/t/{missing}").get_data(as_text=True)


def test_event_cards_cost_the_same_queries_however_many_a_thread_holds(
    app, make_user, make_event, make_thread, sign_up, count_queries
):
    reader = make_user("reader")

    def thread_with(count: int) -> int:
        ids = [make_event(capacity=1, title=f"Night {n}") for n in range(count)]
        for event_id in ids:
            sign_up(make_user(f"early{event_id}"), event_id)  # full: the reader waits
            sign_up(reader, event_id)
        body = "\n\n".join(f"[[event:{event_id}]]" for event_id in ids)
        return make_thread(make_user(f"poster{count}"), title=f"{count} nights", body=body)

    few, many = thread_with(1), thread_with(6)
    browser = logged_in(app, reader)
    for thread_id in (few, many):  # impressions are counted once a day: not in the figures
        browser.get(f"/t/{thread_id}")
    with count_queries() as one_card:
        page = browser.get(f"/t/{few}").get_data(as_text=True)
    with count_queries() as six_cards:
        page = browser.get(f"/t/{many}").get_data(as_text=True)
    assert page.count("data-event-card ") == 6 and page.count("Waitlist · #1") == 6
    # Only the waitlist position is asked per card (for cards whose reader is waiting).
    assert len(six_cards) - len(one_card) <= 5, "\n".join(six_cards)
    assert sum("notifications" in statement for statement in six_cards) == 1


def test_seats_are_pushed_live_to_watchers(app, make_user, make_event, host):
    event_id = make_event(capacity=2)
    watcher = socketio.test_client(app, namespace="/live")
    ack = watcher.emit("watch", {"room": f"event:{event_id}"}, namespace="/live", callback=True)
    assert ack == {"ok": True, "room": f"event:{event_id}"}
    logged_in(app, make_user("pusher")).post(f"/events/{event_id}/signup")
    pushes = [e["args"][0] for e in watcher.get_received("/live") if e["name"] == "event_seats"]
    assert len(pushes) == 1
    assert pushes[0] | {"version": 0} == {
        "event_id": event_id,
        "capacity": 2,
        "seats_taken": 1,
        "seats_left": 1,
        "waitlist_count": 0,
        "signups_open": True,
        "cancelled": False,
        "version": 0,
    }
    door = watcher.emit(
        "watch", {"room": f"event:{event_id}:door"}, namespace="/live", callback=True
    )
    assert door["error"]["code"] == "forbidden"
    assert (
        watcher.emit("watch", {"room": "event:999"}, namespace="/live", callback=True)["error"][
            "code"
        ]
        == "forbidden"
    )
    assert (
        watcher.emit("watch", {"room": "event:abc"}, namespace="/live", callback=True)["error"][
            "code"
        ]
        == "forbidden"
    )


def test_refused_sign_up_pushes_nothing(app, make_user, make_event, sign_up):
    event_id = make_event(capacity=2)
    member = make_user("twice")
    sign_up(member, event_id)
    watcher = socketio.test_client(app, namespace="/live")
    watcher.emit("watch", {"room": f"event:{event_id}"}, namespace="/live", callback=True)
    logged_in(app, member).post(f"/events/{event_id}/signup")
    assert [e for e in watcher.get_received("/live") if e["name"] == "event_seats"] == []


def _form(**overrides):
    starts = (now() + timedelta(days=5)).replace(second=0, microsecond=0)
    data = {
        "title": "Online book club",
        "description": "March pick: *Piranesi*.",
        "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (starts + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "location": "",
        "online_url": "https://meet.example.com/book-club",
        "capacity": "8",
        "signup_deadline": "",
        "sponsor_id": "0",
        "cover_colour": "teal",
        "discussion_category": "",
    }
    data.update(overrides)
    return data


def test_create_event_from_the_form_in_the_viewers_zone(app, make_user):
    from forum.accounts.models import User
    from forum.events.models import Event

    member = make_user("tokyoite")
    with app.app_context():
        db.session.get(User, member.id).timezone = "Asia/Tokyo"
        db.session.commit()
    client = logged_in(app, member)
    assert client.get("/events/new").status_code == 200
    response = client.post(
        "/events/new", data=_form(starts_at="2031-05-01T19:00", ends_at="2031-05-01T21:00")
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        event = db.session.scalar(select(Event))
        assert event.starts_at.isoformat() == "2031-05-01T10:00:00+00:00"  # 19:00 in Tokyo
        assert event.capacity == 8 and event.cover_colour == "teal"


def test_form_errors_are_shown_and_nothing_is_saved(app, make_user):
    from forum.events.models import Event

    client = logged_in(app, make_user("hasty"))
    response = client.post("/events/new", data=_form(ends_at=_form()["starts_at"], capacity="-3"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The end must be after the start." in page and "Capacity can&#39;t be negative." in page
    with app.app_context():
        assert db.session.scalar(select(Event)) is None


def test_cover_image_is_reencoded_and_served(app, make_user):
    from forum.events.models import Event

    picture = io.BytesIO()
    Image.new("RGB", (40, 20), "orange").save(picture, "PNG")
    client = logged_in(app, make_user("artist"))
    data = _form()
    data["cover_image"] = (io.BytesIO(picture.getvalue()), "cover.png")
    response = client.post("/events/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        name = db.session.scalar(select(Event.cover_image))
    served = app.test_client().get(f"/events/covers/{name}")
    assert (
        served.status_code == 200
        and served.mimetype == "image/jpeg"
        and served.data[:2] == b"\xff\xd8"
    )
    served.close()
    assert app.test_client().get("/events/covers/..%2Fconfig.py").status_code == 404

    bad = _form(title="Not a picture")
    bad["cover_image"] = (io.BytesIO(b"<svg onload=alert(1)>"), "evil.svg")
    refused = client.post("/events/new", data=bad, content_type="multipart/form-data")
    assert refused.status_code == 422 and "not an image we can read" in refused.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(select(Event).where(Event.title == "Not a picture")) is None


def test_host_edits_keep_unchanged_times(app, make_event, host):
    from forum.events.models import Event

    event_id = make_event(capacity=3)
    client = logged_in(app, host)
    form = client.get(f"/events/{event_id}/edit").get_data(as_text=True)
    starts = re.search(r'name="starts_at"[^>]*value="([^"]+)"', form).group(1)
    ends = re.search(r'name="ends_at"[^>]*value="([^"]+)"', form).group(1)
    with app.app_context():
        before = db.session.get(Event, event_id).starts_at
    response = client.post(
        f"/events/{event_id}/edit",
        data=_form(
            title="Renamed night",
            starts_at=starts,
            ends_at=ends,
            location="Café",
            online_url="",
            capacity="5",
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert event.title == "Renamed night" and event.capacity == 5 and event.starts_at == before
        assert event.sequence == 1  # the place changed


def test_my_events_page(app, make_user, make_event, sign_up):
    member = make_user("planner")
    event_id = make_event(title="Planned thing")
    sign_up(member, event_id)
    page = logged_in(app, member).get("/events/mine").get_data(as_text=True)
    assert "Planned thing" in page and "/events/feed/" in page
