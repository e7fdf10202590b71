"""Security headers on every page, secure cookies, and no 500 on odd input."""

import pytest

from forum import create_app
from forum.config import ProductionSettingsError
from forum.extensions import db
from tests.conftest import base_config, login

PAGES = [
    "/",
    "/login",
    "/register",
    "/search?q=x",
    "/c/general",
    "/nowhere",
    "/api/v1/categories",
    "/api/v1/openapi.json",
    "/static/css/plaza.css",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_security_headers(client, make_category, path):
    make_category("general")
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    response.close()


def test_pages_have_no_inline_scripts_or_styles(app, member, member_client, make_thread):
    thread_id = make_thread(member, body="**hi** [[product:1]]")
    for path in ("/", f"/t/{thread_id}", "/settings", "/login"):
        html = member_client.get(path).get_data(as_text=True)
        assert "<script>" not in html and " style=" not in html and "onclick=" not in html, path


def test_session_cookie_is_secure_httponly_lax_outside_development(database_uri, make_user):
    config = base_config(database_uri)
    del config["SESSION_COOKIE_SECURE"], config["REMEMBER_COOKIE_SECURE"]
    app = create_app(config)
    user = make_user.__class__(app)("cookieuser")
    client = app.test_client()
    response = client.post(
        "/login",
        data={"username": user.username, "password": user.password, "remember": "y"},
        base_url="https://localhost",
    )
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    remember_cookie = next(c for c in cookies if c.startswith("remember_token="))
    for cookie in (session_cookie, remember_cookie):
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.engine.dispose()


def test_production_refuses_to_start_without_a_secret_key_or_with_sandbox_payments(database_uri):
    config = base_config(database_uri) | {
        "ENV": "production",
        "SECRET_KEY": None,
        "PAYMENTS_SANDBOX": False,
    }
    with pytest.raises(ProductionSettingsError):
        create_app(config)
    config |= {"SECRET_KEY": "s3cret", "PAYMENTS_SANDBOX": True}
    with pytest.raises(ProductionSettingsError):
        create_app(config)


ODD_PATHS = [
    "/t/0",
    "/t/999999999",
    "/t/1?page=abc",
    "/t/1?page=-3",
    "/c/%00",
    "/u/%ff%fe",
    "/p/1/edit",
    "/search?q=%22%27%3B--",
    "/search?q=" + "a" * 3000,
    "/search?cursor=!!!&q=x",
    "/c/general?cursor=bogus",
    "/c/general?limit=1000",
    "/api/v1/threads/abc",
    "/api/v1/categories/general/threads?cursor=%%%",
    "/api/v1/categories/general/threads?limit=-1",
    "/api/v1/search?q=",
    "/notifications/123",
]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_urls_never_give_a_server_error(member_client, make_category, path):
    make_category("general")
    assert member_client.get(path).status_code < 500


def test_odd_posts_never_give_a_server_error(member_client, make_thread, member):
    thread_id = make_thread(member)
    for path, data in [
        (f"/t/{thread_id}/reply", {"body": "\x00\x01" * 10}),
        (f"/t/{thread_id}/reply", {"body": "x" * 60_000}),
        (f"/t/{thread_id}/reply", {"body": "ok", "reply_to": "not-a-number"}),
        (f"/t/{thread_id}/reply", {"body": "ok", "reply_to": "999999"}),
        ("/c/general/new", {"title": "", "body": ""}),
        ("/c/general/new", {"title": "x" * 500, "body": "y"}),
        ("/preview", {"body": "x" * 60_000}),
        ("/settings", {"bio": "b" * 5000, "timezone": "UTC"}),
        ("/mod/u/member/suspend", {"days": "abc"}),
    ]:
        assert member_client.post(path, data=data).status_code < 500, path


def test_login_is_needed_for_writing(client, make_thread, make_user):
    thread_id = make_thread(make_user("writer"))
    response = client.post(f"/t/{thread_id}/reply", data={"body": "anon"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_member_pages_are_not_visible_logged_out(client):
    for path in ("/settings", "/notifications/", "/wallet", "/mod/audit"):
        assert client.get(path).status_code == 302


def test_non_admin_cannot_manage_categories(member_client):
    assert member_client.get("/admin/categories").status_code == 403
    assert (
        member_client.post("/admin/categories", data={"slug": "x", "name": "X"}).status_code == 403
    )


def test_login_helper_sanity(app, member):
    # The fixture helper itself refuses a failed login, so tests cannot silently run logged out.
    client = app.test_client()
    login(client, member)
    assert client.get("/settings").status_code == 200
