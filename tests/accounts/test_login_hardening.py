"""Logging in: no lockout of the owner, no timing or redirect leaks, strong passwords."""

import pytest
from sqlalchemy import select

from forum.accounts import service
from forum.accounts.models import User
from forum.extensions import db
from tests.conftest import login

OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def _login(client, username, password, environ):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base=environ
    )


# --- timing (finding 16) --------------------------------------------------------------


def test_an_unknown_username_costs_a_password_check_like_a_wrong_password(app, member, monkeypatch):
    checked = []
    real = service.check_password_hash
    monkeypatch.setattr(
        service,
        "check_password_hash",
        lambda stored, password: checked.append(stored.split("$")[0]) or real(stored, password),
    )
    client = app.test_client()
    assert _login(client, "nobody-here", "some guess", OWNER).status_code == 401
    assert _login(client, member.username, "some guess", OWNER).status_code == 401
    # Both answers ran one hash check with the configured parameters.
    assert checked == ["pbkdf2:sha256:1000", "pbkdf2:sha256:1000"]


def test_a_hash_made_with_old_parameters_is_upgraded_at_login(app, member):
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:2000"
    login(app.test_client(), member)
    with app.app_context():
        stored = db.session.get(User, member.id).password_hash
    assert stored.startswith("pbkdf2:sha256:2000$")
    login(app.test_client(), member)  # and the new hash checks


# --- redirects (finding 17) -----------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0aSet-Cookie:%20x=1",
        "//evil.example",
        "/%5Cevil.example",
        "/%20/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "evil.example",
        "/%7F/evil.example",
    ],
)
def test_login_never_redirects_off_site_or_fails_on_a_strange_next(client, member, target):
    response = client.post(
        f"/login?next={target}", data={"username": member.username, "password": member.password}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_keeps_a_next_on_this_site(client, member):
    response = client.post(
        "/login?next=/c/general%3Fpage%3D2",
        data={"username": member.username, "password": member.password},
    )
    assert response.headers["Location"] == "/c/general?page=2"


def test_a_refused_form_goes_back_only_to_a_page_of_this_site(app, make_user, member):
    # A refused POST flashes its error and returns to the Referer: only one of this site.
    moderator = make_user("mod", role="moderator")
    client = app.test_client()
    login(client, moderator)
    url = f"/mod/u/{member.username}/suspend"
    away = client.post(url, data={"days": "0"}, headers={"Referer": "https://evil.example/x"})
    assert away.status_code == 422 and "Location" not in away.headers
    back = client.post(
        url, data={"days": "0"}, headers={"Referer": "http://localhost/u/member?x=1"}
    )
    assert back.status_code == 302 and back.headers["Location"] == "/u/member?x=1"


# --- password strength (finding 22) ---------------------------------------------------


@pytest.mark.parametrize("weak", ["password", "12345678", "password123", "qwertyuiop"])
def test_registration_refuses_common_passwords_with_a_field_error(app, client, weak):
    page = client.post(
        "/register", data={"username": "weakling", "email": "weak@example.com", "password": weak}
    )
    assert page.status_code == 422
    assert 'id="password-error"' in page.get_data(as_text=True)
    api = client.post(
        "/api/v1/auth/register",
        json={"username": "weakling", "email": "weak@example.com", "password": weak},
    )
    assert api.status_code == 422
    assert api.get_json()["error"]["fields"]["password"]
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == "weakling")) is None


def test_a_password_made_of_the_username_is_refused(client):
    page = client.post(
        "/api/v1/auth/register",
        json={"username": "margaretha", "email": "mh@example.com", "password": "margaretha1"},
    )
    assert page.status_code == 422 and "password" in page.get_json()["error"]["fields"]


def test_password_change_refuses_a_weak_new_password(app, member, member_client):
    response = member_client.post(
        "/settings/password",
        data={"pw-current_password": member.password, "pw-new_password": "12345678"},
    )
    assert response.status_code == 422
    login(app.test_client(), member)  # the old password still works
