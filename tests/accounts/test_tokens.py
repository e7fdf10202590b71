"""API tokens: only a valid one skips CSRF; scopes; listed, named and revoked."""

import re

import pytest
from sqlalchemy import select

from forum.accounts import service
from forum.accounts.models import ApiToken, User
from forum.extensions import db
from tests.conftest import app_context


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def logged_in(client, user) -> str:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": user.username, "password": user.password, "csrf_token": token}
    )
    assert response.status_code == 302
    return csrf_from(client.get("/").get_data(as_text=True))


def make_token(app, user, scopes=None, name="test") -> tuple[int, str]:
    with app_context(app):
        token, secret = service.create_token(db.session.get(User, user.id), name, scopes)
        db.session.commit()
        return token.id, secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def thread_body(category="general") -> dict:
    return {"category": category, "title": "Token thread", "body": "Posted with a token"}


def test_a_garbage_bearer_header_does_not_skip_csrf_for_a_cookie_session(
    app, client, member, make_category
):
    make_category()
    logged_in(client, member)
    response = client.post(
        "/api/v1/threads", json=thread_body(), headers={"Authorization": "Bearer garbage"}
    )
    assert response.status_code in (401, 403)
    with app.app_context():
        assert db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == member.id)) is None
        from forum.board.models import Thread

        assert db.session.scalar(select(Thread.id)) is None


def test_a_valid_bearer_token_needs_no_csrf_token(app, client, member, make_category):
    make_category()
    _, secret = make_token(app, member)
    response = client.post("/api/v1/threads", json=thread_body(), headers=bearer(secret))
    assert response.status_code == 201


def test_a_read_token_cannot_write(app, client, member, make_category):
    make_category()
    _, secret = make_token(app, member, ["read"])
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    refused = client.post("/api/v1/threads", json=thread_body(), headers=bearer(secret))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "insufficient_scope"


def test_merchant_endpoints_need_the_merchant_scope(app, client, make_user):
    shop = make_user("shopkeeper", role="merchant")
    _, plain = make_token(app, shop, ["read", "write"])
    _, full = make_token(app, shop, ["read", "write", "merchant"])
    assert client.get("/api/v1/merchant", headers=bearer(plain)).status_code == 403
    assert client.get("/api/v1/merchant", headers=bearer(full)).status_code == 200


def test_only_merchants_get_the_merchant_scope(app, member):
    with app.app_context(), pytest.raises(service.ValidationFailed):
        service.create_token(db.session.get(User, member.id), "shop", ["merchant"])


def test_password_login_token_gets_what_the_role_allows_or_asked_scopes(app, client, make_user):
    shop = make_user("seller", role="merchant")
    body = {"username": shop.username, "password": shop.password}
    full = client.post("/api/v1/auth/token", json=body).get_json()["token"]
    assert client.get("/api/v1/merchant", headers=bearer(full)).status_code == 200
    narrow = client.post(
        "/api/v1/auth/token", json={**body, "name": "dashboard", "scopes": ["read"]}
    ).get_json()["token"]
    listing = client.get("/api/v1/auth/tokens", headers=bearer(narrow)).get_json()["items"]
    assert [(t["name"], t["scopes"]) for t in listing] == [
        ("dashboard", ["read"]),
        ("api", ["read", "write", "merchant"]),
    ]


def test_tokens_are_listed_named_and_revoked_through_the_api(app, client, member):
    _, secret = make_token(app, member, name="laptop")
    created = client.post(
        "/api/v1/auth/tokens", json={"name": "ci", "scopes": ["read"]}, headers=bearer(secret)
    )
    assert created.status_code == 201
    new = created.get_json()
    assert new["name"] == "ci" and new["scopes"] == ["read"] and new["token"].startswith("plz_")
    items = client.get("/api/v1/auth/tokens", headers=bearer(secret)).get_json()["items"]
    assert [t["name"] for t in items] == ["ci", "laptop"]
    assert "token" not in items[0] and "token_hash" not in items[0]
    assert (
        client.delete(f"/api/v1/auth/tokens/{new['id']}", headers=bearer(secret)).status_code == 204
    )
    assert client.get("/api/v1/me", headers=bearer(new["token"])).status_code == 401
    again = client.delete(f"/api/v1/auth/tokens/{new['id']}", headers=bearer(secret))
    assert again.status_code == 404


def test_a_token_cannot_make_a_token_with_more_scopes(app, client, member):
    _, secret = make_token(app, member, ["read", "write"])
    # Read-only cannot write at all; a read+write token cannot mint merchant or beyond.
    _, reader = make_token(app, member, ["read"])
    assert (
        client.post("/api/v1/auth/tokens", json={"name": "x"}, headers=bearer(reader)).status_code
        == 403
    )
    made = client.post("/api/v1/auth/tokens", json={"name": "y"}, headers=bearer(secret)).get_json()
    assert made["scopes"] == ["read", "write"]


def test_nobody_revokes_someone_elses_token(app, client, member, make_user):
    other = make_user("other")
    token_id, secret = make_token(app, member)
    _, theirs = make_token(app, other)
    assert (
        client.delete(f"/api/v1/auth/tokens/{token_id}", headers=bearer(theirs)).status_code == 404
    )
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_last_used_at_is_written_when_a_token_is_used(app, client, member):
    token_id, secret = make_token(app, member)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is not None


def test_a_refused_request_notes_no_use_and_the_next_committed_one_does(app, client, member):
    """The note is written in the request's transaction: a refusal, rolled back, leaves
    none."""
    token_id, secret = make_token(app, member)
    refused = client.post("/api/v1/snaps/999999/buy", json={"quantity": 1}, headers=bearer(secret))
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is None
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():
        assert db.session.get(ApiToken, token_id).last_used_at is not None


def test_the_tokens_page_lists_creates_and_revokes(app, client, member):
    csrf = logged_in(client, member)
    token_id, _ = make_token(app, member, name="old laptop")
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "old laptop" in page and "never used" in page
    created = client.post(
        "/settings/tokens",
        data={
            "tok-name": "phone",
            "tok-scopes": ["read"],
            "tok-csrf_token": csrf,
            "csrf_token": csrf,
        },
    )
    html = created.get_data(as_text=True)
    assert created.status_code == 200 and "phone" in html
    secret = re.search(r"(plz_[\w-]+)", html).group(1)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    refused = client.post(f"/settings/tokens/{token_id}/revoke")  # no CSRF token
    assert refused.status_code == 400
    revoked = client.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 302
    assert "revoked" in client.get("/settings/tokens").get_data(as_text=True)  # the flash
    assert "old laptop" not in client.get("/settings/tokens").get_data(as_text=True)


def test_password_change_revokes_every_token_logout_keeps_named_ones(app, member):
    client = app.test_client()
    csrf = logged_in(client, member)
    _, secret = make_token(app, member, name="integration")
    client.post("/logout", data={"csrf_token": csrf})
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 200
    csrf = logged_in(client, member)
    changed = client.post(
        "/settings/password",
        data={
            "pw-current_password": member.password,
            "pw-new_password": "a brand new passphrase",
            "pw-csrf_token": csrf,
        },
    )
    assert changed.status_code == 302
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
