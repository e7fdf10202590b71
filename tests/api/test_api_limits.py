"""Rate limits are part of an endpoint's declaration, so they guard the view that is served."""

import re

import pytest

from tests.conftest import login

TIGHT = "2/minute"


@pytest.fixture
def config_overrides():
    return {"RATELIMIT_ENABLED": True}


def declared_limits(app):
    """(rule, method, setting) for every route whose view declares a limit."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for setting in getattr(view, "rate_limits", ()):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method, setting


def concrete(rule) -> str:
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", rule.rule)


def test_every_declared_limit_answers_429_on_its_own_route(app):
    found = list(declared_limits(app))
    assert {"/api/v1/auth/token", "/api/v1/auth/register"} <= {r.rule for r, _, _ in found}
    for rule, method, setting in found:
        app.config[setting] = TIGHT
        client = app.test_client()
        url = concrete(rule)
        codes = [client.open(url, method=method, json={}).status_code for _ in range(3)]
        assert 429 not in codes[:2] and codes[2] == 429, (method, url, codes)
        refused = client.open(url, method=method, json={})
        assert refused.get_json()["error"]["code"] == "rate_limited"


def test_register_is_limited_per_address_whatever_the_username(app):
    app.config["LOGIN_LIMIT_PER_IP"] = TIGHT
    client = app.test_client()
    codes = [
        client.post(
            "/api/v1/auth/register",
            json={"username": f"newbie{i}", "email": f"n{i}@example.com", "password": "x" * 12},
        ).status_code
        for i in range(3)
    ]
    assert codes[2] == 429 and 429 not in codes[:2]


def test_token_is_limited_per_address_across_accounts(app, make_user):
    app.config["LOGIN_LIMIT_PER_IP"] = TIGHT
    users = [make_user(f"tok{i}") for i in range(3)]
    client = app.test_client()
    codes = [
        client.post(
            "/api/v1/auth/token", json={"username": u.username, "password": "wrong wrong"}
        ).status_code
        for u in users
    ]
    assert codes == [401, 401, 429]


def test_limited_operations_document_their_429(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/auth/token", "/api/v1/auth/register"):
        assert "429" in doc["paths"][path]["post"]["responses"]


def test_the_html_login_limit_still_applies(app, member):
    app.config["LOGIN_LIMIT_PER_IP"] = TIGHT
    client = app.test_client()
    login(client, member)
    client.get("/logout")
    codes = [
        client.post("/login", data={"username": "ghost", "password": "x" * 9}).status_code
        for _ in range(2)
    ]
    assert codes[-1] == 429
