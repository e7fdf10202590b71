"""Safe by default: an app started without FORUM_ENV is production and needs a real key."""

import flask
import pytest
from flask.sessions import SecureCookieSessionInterface

from forum import create_app
from forum.config import ProductionSettingsError
from forum.extensions import db
from tests.conftest import base_config


@pytest.fixture
def instance_dir(tmp_path, monkeypatch):
    """Point Flask's instance folder at a temporary directory."""
    folder = tmp_path / "instance"
    monkeypatch.setattr(flask.Flask, "auto_find_instance_path", lambda self: str(folder))
    return folder


def _config_without(database_uri, *keys, **extra):
    config = base_config(database_uri) | {"PAYMENTS_SANDBOX": False} | extra
    for key in keys:
        config.pop(key)
    return config


def test_an_app_started_without_env_is_production_and_refuses_to_start_without_a_key(
    database_uri, instance_dir, monkeypatch
):
    monkeypatch.delenv("FORUM_ENV", raising=False)
    monkeypatch.delenv("FORUM_SECRET_KEY", raising=False)
    with pytest.raises(ProductionSettingsError, match="FORUM_SECRET_KEY"):
        create_app(_config_without(database_uri, "ENV", "SECRET_KEY"))


@pytest.mark.parametrize("env", ["staging", "prod", "Production", ""])
def test_any_env_but_development_or_testing_counts_as_production(database_uri, instance_dir, env):
    with pytest.raises(ProductionSettingsError, match="FORUM_SECRET_KEY"):
        create_app(_config_without(database_uri, "SECRET_KEY", ENV=env))


def test_development_gets_a_random_key_written_once_to_the_instance_folder(
    database_uri, instance_dir
):
    config = _config_without(database_uri, "SECRET_KEY", ENV="development")
    first = create_app(config)
    key = first.config["SECRET_KEY"]
    key_file = instance_dir / "secret_key"
    assert key_file.read_text() == key and len(key) >= 64
    assert instance_dir.name not in key and "dev-only" not in key
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert create_app(config).config["SECRET_KEY"] == key  # kept across restarts


def _signed_session(app, key: str, data: dict) -> str:
    holder = type("KeyHolder", (), {"secret_key": key, "config": app.config})()
    return SecureCookieSessionInterface().get_signing_serializer(holder).dumps(data)


def test_a_cookie_signed_with_the_old_guessable_dev_key_opens_no_admin_page(
    database_uri, instance_dir, make_user
):
    app = create_app(_config_without(database_uri, "SECRET_KEY", ENV="development"))
    admin = make_user.__class__(app)("root", role="admin")
    session = {"_user_id": f"{admin.id}:1", "_fresh": True}
    client = app.test_client()
    client.set_cookie("session", _signed_session(app, "dev-only-" + app.instance_path, session))
    assert client.get("/mod/audit").status_code == 302  # sent to the login page
    # The same cookie signed with the real key is an admin session: the page exists.
    client.set_cookie("session", _signed_session(app, app.config["SECRET_KEY"], session))
    assert client.get("/mod/audit").status_code == 200
    with app.app_context():
        db.engine.dispose()
