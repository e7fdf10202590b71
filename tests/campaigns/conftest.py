"""Campaign fixtures: admins, members with verified addresses and consent, segments."""

import re

import pytest

from forum.accounts.models import User
from forum.campaigns import service
from forum.campaigns.models import ContactSettings
from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context


def outbox(app) -> list:
    return getattr(app.extensions["mailman"], "outbox", [])


def link_in(message, path: str) -> str:
    """The first link to ``path`` in a message's text (relative: the test client's)."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]*)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def admin(make_user):
    return make_user("campadmin", role="admin")


@pytest.fixture
def verify(app):
    """Mark members' addresses verified (and set contact settings)."""

    def mark(*users, **settings):
        with app_context(app):
            for user in users:
                row = service.contact(user.id)
                row.email_verified_at = now()
                for name, value in settings.items():
                    setattr(row, name, value)
            db.session.commit()

    return mark


@pytest.fixture
def make_segment(app, admin):
    def create(rule, name="seg") -> int:
        with app_context(app), app.test_request_context("/"):
            segment = service.create_segment(db.session.get(User, admin.id), name, rule)
            db.session.commit()
            return segment.id

    return create


def contact_of(app, user_id) -> ContactSettings | None:
    with app_context(app):
        row = db.session.get(ContactSettings, user_id)
        if row is not None:
            db.session.expunge(row)
        return row
