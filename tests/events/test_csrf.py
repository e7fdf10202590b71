"""With CSRF on (as in production): forms and cookie-session API calls need the token."""

import re

import pytest


@pytest.fixture
def config_overrides():
    return {"WTF_CSRF_ENABLED": True}


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_sign_up_needs_the_token(app, make_user, make_event, event_row):
    event_id = make_event(capacity=3)
    member = make_user("careful")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={"username": "careful", "password": member.password, "csrf_token": csrf_from(page)},
    )
    assert client.post(f"/events/{event_id}/signup").status_code == 400
    assert client.post(f"/api/v1/events/{event_id}/signup").status_code == 403
    assert event_row(event_id)["seats_taken"] == 0
    token = csrf_from(client.get(f"/events/{event_id}").get_data(as_text=True))
    response = client.post(
        f"/events/{event_id}/signup", headers={"X-CSRFToken": token, "Accept": "application/json"}
    )
    assert response.status_code == 201
    assert event_row(event_id)["seats_taken"] == 1


def test_bearer_tokens_need_no_csrf(make_user, make_event, api):
    event_id = make_event()
    assert api(make_user("robot"))("POST", f"/events/{event_id}/signup").status_code == 201
