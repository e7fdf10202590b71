"""The HTTP layer: 405s say what is allowed, a database outage is a 503, proxies."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from forum import create_app
from forum.board import service as board
from forum.extensions import db
from tests.conftest import PG_URL, base_config, login

# --- 405 (finding 23) -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/api/v1/me", "/logout"])
def test_a_405_names_the_allowed_methods(client, path):
    response = client.put(path)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed and "PUT" not in allowed
    assert response.headers["Content-Security-Policy"]


# --- database outage (finding 18) -----------------------------------------------------


def test_engines_ping_pooled_connections_before_use(app):
    with app.app_context():
        assert db.engine.pool._pre_ping is True


def test_engine_options_from_the_environment_keep_the_pre_ping(database_uri):
    app = create_app(base_config(database_uri) | {"SQLALCHEMY_ENGINE_OPTIONS": {"echo": False}})
    with app.app_context():
        assert db.engine.pool._pre_ping is True
        db.engine.dispose()


@pytest.fixture
def dead_database_app(tmp_path):
    # A database file in a folder that does not exist: every connection fails.
    uri = f"sqlite:///{tmp_path / 'missing' / 'plaza.sqlite3'}"
    app = create_app(base_config(uri))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_dead_database_answers_503_with_retry_after_on_pages(dead_database_app):
    response = dead_database_app.test_client().get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["Content-Security-Policy"]  # our page, not a bare server one
    assert "right back" in response.get_data(as_text=True)


def test_a_dead_database_answers_json_503_on_the_api(dead_database_app):
    response = dead_database_app.test_client().get("/api/v1/categories")
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable" and error["message"] and error["fields"] == {}


def test_a_dead_database_with_a_session_cookie_still_gets_the_503_page(app, member, tmp_path):
    client = app.test_client()
    login(client, member)
    dead = create_app(base_config(f"sqlite:///{tmp_path / 'gone' / 'db.sqlite3'}"))
    cookie = client.get_cookie("session")
    dead_client = dead.test_client()
    dead_client.set_cookie("session", cookie.value)
    response = dead_client.get("/settings")
    assert response.status_code == 503 and response.headers["Content-Security-Policy"]
    with dead.app_context():
        db.engine.dispose()


def test_a_failed_query_mid_request_still_renders_the_error_page(app, member, monkeypatch):
    """The handler rolls back first: on PostgreSQL the aborted transaction would make
    every later query (the page's user, its bell) fail with InFailedSqlTransaction."""

    def broken(*args, **kwargs):
        db.session.execute(text("INSERT INTO users (username) VALUES (NULL)"))

    monkeypatch.setattr(board, "list_categories", broken)
    client = app.test_client()
    login(client, member)
    response = client.get("/")
    assert response.status_code == 500
    assert response.headers["Content-Security-Policy"]
    assert client.get("/settings").status_code == 200


def test_an_operational_error_raised_anywhere_is_a_503(app, monkeypatch):
    def outage(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(board, "list_categories", outage)
    response = app.test_client().get("/api/v1/categories")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "database_unavailable"


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL restart needs PostgreSQL")
def test_the_first_request_after_the_database_drops_connections_succeeds(app, client):
    assert client.get("/api/v1/categories").status_code == 200
    with app.app_context():
        name = db.engine.url.database
        url = db.engine.url
    killer = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with killer.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )
    killer.dispose()
    assert client.get("/api/v1/categories").status_code == 200


# --- proxies (finding 8) --------------------------------------------------------------


@pytest.fixture
def proxied_app(database_uri):
    config = base_config(database_uri) | {
        "PROXY_FIX_X_FOR": 1,
        "PROXY_FIX_X_PROTO": 1,
        "RATELIMIT_ENABLED": True,
        "LOGIN_LIMIT_PER_IP": "2/minute",
    }
    app = create_app(config)
    yield app
    with app.app_context():
        db.engine.dispose()


def _login_from(client, address):
    return client.post(
        "/login",
        data={"username": "nobody", "password": "not this one"},
        headers={"X-Forwarded-For": address},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},  # every request comes through nginx
    )


def test_behind_the_proxy_per_address_limits_count_each_client(proxied_app):
    client = proxied_app.test_client()
    codes = [_login_from(client, "203.0.113.1").status_code for _ in range(3)]
    assert codes == [401, 401, 429]
    assert _login_from(client, "203.0.113.2").status_code == 401  # another client is not blocked


def test_without_proxy_fix_forwarded_headers_are_not_trusted(app):
    with app.test_request_context(
        "/", headers={"X-Forwarded-For": "203.0.113.1"}, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    ):
        from flask import request

        assert request.remote_addr == "10.1.1.1"
