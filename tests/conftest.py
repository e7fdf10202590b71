"""Layered fixtures: database -> app -> client -> logged-in users -> domain factories.

Each test gets a fresh database. On SQLite (the default) that is a copy of a
template file made once per session; on PostgreSQL (``PLAZA_TEST_DATABASE_URL``)
the schema is made once per worker and every table is truncated before each test,
so concurrency tests can use real separate connections on committed data.

The ``app`` fixture does not push an app context: a request in Flask reuses a
pushed context (and its ``g``, where Flask-Login caches the user), which would
leak state between requests. Use ``with app.app_context():`` (or the ``ctx``
fixture for tests that never touch the client).
"""

import os
import shutil
import socket
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from forum import create_app
from forum.extensions import db

# Every /api/v1 response the suite produces is checked against the OpenAPI document.
pytest_plugins = (
    "tests.fixtures.routing_cache",
    "tests.fixtures.template_cache",
    "tests.openapi_contract",
    "tests.fixtures.shop",
    "tests.fixtures.concurrency",
    "tests.fixtures.celery_worker",
)

PG_URL = os.environ.get("PLAZA_TEST_DATABASE_URL")
PASSWORD = "correct horse battery"


# --- guards ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_outside_network(monkeypatch):
    """Fail any test that opens a connection off this machine (SMTP, HTTP, CDNs)."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
        ):
            raise RuntimeError(f"test tried to reach {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


# --- database ----------------------------------------------------------------------


def worker_suffix() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_worker_url() -> str:
    url = make_url(PG_URL)
    name = f"{url.database}_{worker_suffix()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A test database need not survive a crash: commits skip the WAL flush wait.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def base_config(uri: str) -> dict:
    return {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": uri,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "PAYMENTS_SANDBOX": True,
        # Most tests post as brand-new accounts; the first-post queue has its own tests.
        "FIRST_POSTS_HELD": 0,
    }


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Build the schema once: a template SQLite file, or the worker's PostgreSQL database."""
    if PG_URL:
        uri = _pg_worker_url()
        app = create_app(base_config(uri))
        with app.app_context():
            db.drop_all()
            db.create_all()
            db.engine.dispose()
        return uri
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app(base_config(f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()
    return str(path)


_reset_engines: dict = {}


def _empty_all(uri: str) -> None:
    """Empty the tables the last test wrote to and restart every used sequence.

    TRUNCATE of all ~100 tables cost 0.3-1.5 s per test (each makes new files for the
    table and its indexes); finding the few non-empty tables in one query and deleting
    their rows costs milliseconds.
    """
    engine = _reset_engines.get(uri)
    if engine is None:
        engine = _reset_engines[uri] = create_engine(uri, pool_size=1, pool_pre_ping=True)
    tables = [t.name for t in db.metadata.sorted_tables]
    probe = " UNION ALL ".join(
        f"SELECT '{name}' FROM (SELECT 1 FROM \"{name}\" LIMIT 1) AS t"  # noqa: S608 (our table names)
        for name in tables
    )
    with engine.begin() as conn:
        found = set(conn.execute(text(probe)).scalars())
        written = [f'"{name}"' for name in reversed(tables) if name in found]
        try:
            with conn.begin_nested():
                for name in written:  # children before parents
                    conn.exec_driver_sql(f"DELETE FROM {name}")  # noqa: S608 (our table names)
        except IntegrityError:  # rows referencing each other across a cycle
            conn.exec_driver_sql(f"TRUNCATE {', '.join(written)} CASCADE")
        used = conn.execute(
            text("SELECT schemaname, sequencename FROM pg_sequences WHERE last_value IS NOT NULL")
        ).all()
        for schema, sequence in used:
            conn.exec_driver_sql(f'ALTER SEQUENCE "{schema}"."{sequence}" RESTART')


@pytest.fixture
def database_uri(database_template, tmp_path):
    if PG_URL:
        _empty_all(database_template)
        return database_template
    path = tmp_path / "plaza.sqlite3"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def config_overrides():
    """Override in a module or test to change settings (e.g. CSRF or rate limits on)."""
    return {}


@pytest.fixture
def app(database_uri, config_overrides, tmp_path):
    config = base_config(database_uri)
    config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    config.update(config_overrides)
    application = create_app(config)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- users -------------------------------------------------------------------------


@contextmanager
def app_context(app):
    from flask import current_app

    try:
        same = current_app._get_current_object() is app
    except RuntimeError:
        same = False
    if same:
        yield
    else:
        with app.app_context():
            yield


@dataclass(frozen=True)
class UserRef:
    id: int
    username: str
    password: str
    role: str


class UserFactory:
    def __init__(self, app):
        self.app = app
        self.count = 0

    def __call__(
        self,
        username: str | None = None,
        *,
        role: str = "member",
        password: str = PASSWORD,
        trust_level: int = 1,
    ) -> UserRef:
        """A registered member. ``trust_level`` 1 by default (as Discourse's fabricator):
        tests about newcomers' limits ask for 0, what a brand-new sign-up gets."""
        from forum.accounts import service

        self.count += 1
        username = username or f"user{self.count}"
        with app_context(self.app), self.app.test_request_context("/"):
            user = service.register(username, f"{username}@example.com", password, role=role)
            user.trust_level = trust_level
            db.session.commit()
            return UserRef(user.id, user.username, password, role)


@pytest.fixture
def make_user(app):
    return UserFactory(app)


def login(client, user: UserRef, remember: bool = False):
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": user.password,
            "remember": "y" if remember else "",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def member(make_user):
    return make_user("member")


@pytest.fixture
def member_client(app, member):
    client = app.test_client()
    login(client, member)
    return client


@pytest.fixture
def token_for(app):
    """Issue an API token for a user; returns the Authorization header dict."""
    from forum.accounts import service
    from forum.accounts.models import User

    def issue(user: UserRef) -> dict:
        with app_context(app):
            secret = service.issue_token(db.session.get(User, user.id))
            db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return issue


# --- board -------------------------------------------------------------------------


@pytest.fixture
def make_category(app, make_user):
    from forum.accounts.models import User
    from forum.board import service

    state = {}

    def create(slug: str = "general", name: str | None = None) -> int:
        if "admin" not in state:
            state["admin"] = make_user("boardadmin", role="admin")
        with app_context(app), app.test_request_context("/"):
            category = service.create_category(
                db.session.get(User, state["admin"].id), slug, name or slug.title()
            )
            db.session.commit()
            return category.id

    return create


@pytest.fixture
def make_thread(app, make_category):
    from forum.accounts.models import User
    from forum.board import service
    from forum.board.models import Category

    def create(
        author: UserRef,
        title: str = "A thread title",
        body: str = "First post body",
        category_id=None,
    ) -> int:
        with app_context(app), app.test_request_context("/"):
            cid = category_id or make_category_default()
            thread = service.create_thread(
                db.session.get(User, author.id), db.session.get(Category, cid), title, body
            )
            db.session.commit()
            return thread.id

    cache = {}

    def make_category_default():
        if "id" not in cache:
            cache["id"] = make_category("general")
        return cache["id"]

    return create


# --- services ----------------------------------------------------------------------


REDIS_URL = os.environ.get("PLAZA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="session")
def redis_url():
    """A reachable Redis (database 15, flushed); skipped locally without one, fatal in CI."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        if os.environ.get("PLAZA_REQUIRE_SERVICES"):
            pytest.fail(f"Redis is required in CI but {REDIS_URL} is not reachable")
        pytest.skip(f"no Redis at {REDIS_URL}")
    client.flushdb()
    return REDIS_URL


@pytest.fixture
def on_postgres() -> bool:
    return bool(PG_URL)


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.postgres`` tests run only on PostgreSQL runs (CI runs both)."""
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="PostgreSQL-only; runs in the PostgreSQL pass of .ci/run")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as queries: ...`` then ``len(queries)``: catches N+1 loops."""
    from sqlalchemy import event

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting
