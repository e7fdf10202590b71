"""Chat fixtures: rooms made through the service, logged-in clients, /chat sockets."""

import pytest
from sqlalchemy import func, select

from forum.extensions import db, socketio
from tests.conftest import app_context, login

NS = "/chat"


@pytest.fixture
def chat_admin(make_user):
    return make_user("chatadmin", role="admin")


@pytest.fixture
def make_room(app, chat_admin):
    """Create a public room (as an admin); returns its slug."""
    from forum.accounts.models import User
    from forum.chat import service

    def create(slug: str = "general", name: str | None = None, topic: str = "") -> str:
        with app_context(app), app.test_request_context("/"):
            room = service.create_public_room(
                db.session.get(User, chat_admin.id), slug, name or slug.title(), topic
            )
            db.session.commit()
            return room.slug

    return create


@pytest.fixture
def make_private_room(app):
    """Create a private room owned by ``owner`` with ``members`` (UserRefs); returns its slug."""
    from forum.accounts.models import User
    from forum.chat import service

    def create(owner, members=(), name: str = "Secret club") -> str:
        with app_context(app), app.test_request_context("/"):
            room = service.create_private_room(
                db.session.get(User, owner.id), name, [m.username for m in members]
            )
            db.session.commit()
            return room.slug

    return create


@pytest.fixture
def make_direct(app):
    from forum.accounts.models import User
    from forum.chat import service

    def create(a, b) -> str:
        with app_context(app), app.test_request_context("/"):
            room = service.open_direct(db.session.get(User, a.id), db.session.get(User, b.id))
            db.session.commit()
            return room.slug

    return create


@pytest.fixture
def client_for(app):
    """A Flask test client logged in as ``user``."""

    def make(user):
        client = app.test_client()
        login(client, user)
        return client

    return make


@pytest.fixture
def chat_socket(app):
    """Connect a /chat socket sharing a Flask test client's cookies (or with ``auth``)."""
    made = []

    def connect(client=None, auth=None):
        sock = socketio.test_client(app, namespace=NS, flask_test_client=client, auth=auth)
        made.append(sock)
        return sock

    yield connect
    for sock in made:
        if sock.is_connected(NS):
            sock.disconnect(NS)


def _payload(event: dict):
    # Flask-SocketIO's test client keeps a "message" event's single argument unwrapped.
    if event["name"] in ("message", "json"):
        return event["args"]
    return event["args"][0] if event["args"] else None


def received(sock, name: str) -> list[dict]:
    """Payloads of the ``name`` events the socket got since the last call (others are dropped)."""
    return [_payload(event) for event in sock.get_received(NS) if event["name"] == name]


def events(sock) -> list[tuple[str, dict]]:
    """(name, payload) of every event received since the last call."""
    return [(event["name"], _payload(event)) for event in sock.get_received(NS)]


def count_rows(app, model, *where) -> int:
    with app_context(app):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))
