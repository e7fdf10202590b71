"""Event factories: an event made through the service, and helpers to read state back."""

from datetime import timedelta

import pytest

from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context


@pytest.fixture
def host(make_user):
    return make_user("hostess")


@pytest.fixture
def make_event(app, host):
    from forum.accounts.models import User
    from forum.events import service

    def create(by=None, *, capacity=2, starts_in=timedelta(days=2), hours=2, **values):
        starts = now() + starts_in
        fields = {
            "title": "Board-game night",
            "description": "Bring a game **you love**.",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=hours),
            "location": "Riverside Café",
            "capacity": capacity,
            **values,
        }
        with app_context(app), app.test_request_context("/"):
            event = service.create_event(db.session.get(User, (by or host).id), **fields)
            db.session.commit()
            return event.id

    return create


@pytest.fixture
def sign_up(app):
    """Sign a user up through the service; returns (status, position)."""
    from forum.accounts.models import User
    from forum.events import service
    from forum.events.models import Event

    def do(user, event_id, **kwargs):
        with app_context(app), app.test_request_context("/"):
            result = service.sign_up(
                db.session.get(User, user.id), db.session.get(Event, event_id), **kwargs
            )
            db.session.commit()
            return result.status, result.position

    return do


@pytest.fixture
def signups_of(app):
    """{username: (status, position)} for an event, read back from the database."""
    from forum.events import service
    from forum.events.models import Signup

    def read(event_id):
        with app_context(app):
            rows = db.session.scalars(db.select(Signup).where(Signup.event_id == event_id)).all()
            return {s.user.username: (s.status, service.waitlist_position(s)) for s in rows}

    return read


@pytest.fixture
def event_row(app):
    from forum.events.models import Event

    def read(event_id):
        with app_context(app):
            event = db.session.get(Event, event_id)
            return {
                "seats_taken": event.seats_taken,
                "capacity": event.capacity,
                "waitlist_counter": event.waitlist_counter,
            }

    return read


@pytest.fixture
def api(app, token_for):
    """A small JSON client acting as ``user`` with a bearer token."""

    class Api:
        def __init__(self, user=None):
            self.client = app.test_client()
            self.headers = token_for(user) if user else {}

        def __call__(self, method, path, json=None, headers=None):
            return self.client.open(
                "/api/v1" + path,
                method=method,
                json=json,
                headers={**self.headers, **(headers or {})},
            )

    return Api
