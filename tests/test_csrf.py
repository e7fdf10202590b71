"""CSRF is enforced on every form and on cookie-authenticated API writes."""

import re

import pytest

from tests.conftest import login


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def test_login_form_without_token_is_refused(client, member):
    response = client.post(
        "/login", data={"username": member.username, "password": member.password}
    )
    assert response.status_code == 400
    assert client.get("/settings").status_code == 302  # not logged in


def test_login_form_with_token_works(client, member):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": member.username, "password": member.password, "csrf_token": token},
    )
    assert response.status_code == 302


def logged_in(client, member):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login",
        data={"username": member.username, "password": member.password, "csrf_token": token},
    )
    return csrf_from(client.get("/").get_data(as_text=True))


def test_forms_refuse_missing_or_foreign_tokens(app, client, member, make_thread):
    thread_id = make_thread(member)
    token = logged_in(client, member)
    assert client.post(f"/t/{thread_id}/reply", data={"body": "no token"}).status_code == 400
    assert (
        client.post(
            f"/t/{thread_id}/reply", data={"body": "bad", "csrf_token": "forged"}
        ).status_code
        == 400
    )
    assert client.post("/logout").status_code == 400
    assert (
        client.post(
            f"/t/{thread_id}/reply", data={"body": "with token", "csrf_token": token}
        ).status_code
        == 302
    )


def test_cookie_session_api_writes_need_the_token_but_bearer_tokens_do_not(
    app, client, member, make_thread, token_for
):
    thread_id = make_thread(member)
    token = logged_in(client, member)
    refused = client.post(f"/api/v1/threads/{thread_id}/posts", json={"body": "cookie, no token"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "csrf_failed"
    allowed = client.post(
        f"/api/v1/threads/{thread_id}/posts",
        json={"body": "cookie+token"},
        headers={"X-CSRFToken": token},
    )
    assert allowed.status_code == 201
    bearer = app.test_client().post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "bearer"}, headers=token_for(member)
    )
    assert bearer.status_code == 201


def test_login_helper_works_with_csrf_disabled_only(app, member):
    with pytest.raises(AssertionError):
        login(app.test_client(), member)
