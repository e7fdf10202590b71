"""The shape the events feature keeps: GETs write nothing, sign-ups are announced
through forum.signals, the service never reads current_user, the cover is stored by
the service, one time parser, and no module over the size limit."""

import io
import pathlib
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from forum import signals
from forum.errors import ValidationFailed
from forum.extensions import db
from tests.conftest import app_context, login

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
EVENTS_DIR = pathlib.Path(__file__).resolve().parents[2] / "forum" / "events"


def _client(app, user):
    client = app.test_client()
    login(client, user)
    return client


def _writes(statements) -> list[str]:
    return [s for s in statements if WRITE.match(s)]


def test_event_pages_and_calendar_feeds_write_nothing_on_get(
    app, make_user, make_event, sign_up, host, count_queries
):
    from forum.events.models import CalendarFeed

    member = make_user("reader")
    event_id = make_event(title="Quiet reading")
    sign_up(member, event_id)
    with app_context(app):
        token = db.session.scalar(
            select(CalendarFeed.token).where(CalendarFeed.user_id == member.id)
        )
    browser, host_browser, anonymous = _client(app, member), _client(app, host), app.test_client()
    pages = [
        (anonymous, "/events"),
        (anonymous, "/events/calendar"),
        (anonymous, f"/events/{event_id}"),
        (anonymous, f"/events/{event_id}.ics"),
        (anonymous, f"/events/feed/{token}.ics"),
        (browser, "/events/mine"),
        (browser, f"/events/{event_id}/ticket"),
        (host_browser, f"/events/{event_id}/manage"),
        (host_browser, f"/events/{event_id}/edit"),
        (host_browser, "/events/new"),
    ]
    for client, path in pages:
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code == 200, path
        assert _writes(statements) == [], path


def test_signing_up_makes_the_members_calendar_address(app, make_user, make_event, sign_up):
    from forum.events.models import CalendarFeed

    member = make_user("joiner")
    sign_up(member, make_event())
    sign_up(member, make_event(title="Second night"))  # the address is made once
    with app_context(app):
        feeds = db.session.scalars(
            select(CalendarFeed).where(CalendarFeed.user_id == member.id)
        ).all()
    assert len(feeds) == 1 and len(feeds[0].token) >= 20


def test_member_without_an_address_asks_for_one_by_post(app, make_user):
    from forum.events.models import CalendarFeed

    browser = _client(app, make_user("newcomer"))
    page = browser.get("/events/mine").get_data(as_text=True)
    assert "Get my calendar address" in page and "/events/feed/" not in page
    assert browser.post("/events/mine/feed/reset").status_code == 302
    with app_context(app):
        token = db.session.scalar(select(CalendarFeed.token))
    assert f"/events/feed/{token}.ics" in browser.get("/events/mine").get_data(as_text=True)


def test_sign_ups_and_releases_are_sent_as_signals(app, make_user, make_event, sign_up):
    from forum.accounts.models import User
    from forum.events import service
    from forum.events.models import Event

    heard = []

    def made(signup, **kwargs):
        heard.append(("made", signup.user_id, kwargs["event"].id, kwargs["user"].id))

    def released(signup, **kwargs):
        heard.append(("released", signup.user_id, kwargs["event"].id, kwargs["status"]))

    signals.signup_made.connect(made)
    signals.signup_released.connect(released)
    try:
        member = make_user("announced")
        event_id = make_event()
        sign_up(member, event_id)
        with app_context(app), app.test_request_context("/"):
            service.cancel_signup(db.session.get(User, member.id), db.session.get(Event, event_id))
            db.session.commit()
    finally:
        signals.signup_made.disconnect(made)
        signals.signup_released.disconnect(released)
    assert heard == [
        ("made", member.id, event_id, member.id),
        ("released", member.id, event_id, "cancelled"),
    ]


def test_the_service_never_reads_current_user():
    sources = sorted((EVENTS_DIR / "service").glob("*.py"))
    assert sources and not [p.name for p in sources if "current_user" in p.read_text()]


def test_event_cards_are_loaded_for_the_viewer_the_caller_names(
    app, make_user, make_event, sign_up
):
    from forum.accounts.models import User
    from forum.events import service

    member, other = make_user("cardholder"), make_user("stranger")
    event_id = make_event(capacity=1)
    sign_up(member, event_id)
    sign_up(other, event_id)  # waitlisted
    with app_context(app), app.test_request_context("/"):  # nobody logged in
        viewer = db.session.get(User, other.id)
        event = service.load_cards([event_id], viewer)[event_id]
        state = service.card_state(event, viewer)
        assert state["signup"].user_id == other.id and state["position"] == 1
        assert state["waitlist"] == 1
        assert service.card_state(event, None)["signup"] is None


def _png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (40, 20), "orange").save(picture, "PNG")
    return picture.getvalue()


def test_the_service_stores_the_cover_and_refuses_a_bad_one_writing_nothing(app, host, make_event):
    from datetime import timedelta

    from forum.accounts.models import User
    from forum.clock import now
    from forum.events import covers, service
    from forum.events.models import Event

    starts = now() + timedelta(days=3)
    fields = {
        "title": "Poster night",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "location": "Hall",
    }
    with app_context(app), app.test_request_context("/"):
        user = db.session.get(User, host.id)
        event = service.create_event(user, cover_image=_png(), **fields)
        db.session.commit()
        assert covers.is_cover_name(event.cover_image)
        first = event.cover_image
        service.update_event(user, event, cover_image=_png())
        db.session.commit()
        assert covers.is_cover_name(event.cover_image) and event.cover_image != first

        with pytest.raises(ValidationFailed) as refused:
            service.create_event(user, cover_image=b"<svg onload=alert(1)>", **fields)
        db.session.rollback()
        assert "cover_image" in refused.value.fields
        assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_one_time_parser_serves_events_and_promotions():
    from forum import times
    from forum.events import service as events
    from forum.events.service import events as event_rules
    from forum.promotions.service import common as promotions

    assert events.parse_time is times.parse_time
    assert event_rules.parse_time is times.parse_time
    assert promotions.parse_time is times.parse_time


def test_no_events_module_is_over_600_lines():
    sizes = {
        str(path.relative_to(EVENTS_DIR)): len(path.read_text().splitlines())
        for path in EVENTS_DIR.rglob("*.py")
    }
    assert sizes and {name: n for name, n in sizes.items() if n > 600} == {}
