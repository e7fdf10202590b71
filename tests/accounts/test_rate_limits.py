import pytest

from tests.conftest import login


@pytest.fixture
def config_overrides():
    return {
        "RATELIMIT_ENABLED": True,
        "LOGIN_LIMIT_PER_ACCOUNT": "3/minute",
        "LOGIN_LIMIT_PER_IP": "8/minute",
        "POST_LIMIT": "2/minute",
    }


def test_failed_logins_are_limited_per_account_even_with_the_right_password(app, member):
    client = app.test_client()
    for _ in range(3):
        assert (
            client.post(
                "/login", data={"username": member.username, "password": "wrong guess"}
            ).status_code
            == 401
        )
    blocked = client.post("/login", data={"username": member.username, "password": member.password})
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.get_data(as_text=True)


def test_unknown_accounts_are_limited_the_same_way(app):
    client = app.test_client()
    answers = [
        client.post("/login", data={"username": "ghost", "password": "x" * 9}).status_code
        for _ in range(4)
    ]
    assert answers == [401, 401, 401, 429]


def test_login_is_limited_per_ip(app, make_user):
    users = [make_user(f"ipuser{i}") for i in range(3)]
    client = app.test_client()
    codes = [
        client.post(
            "/login", data={"username": users[i % 3].username, "password": "bad password"}
        ).status_code
        for i in range(9)
    ]
    assert codes[-1] == 429 and 429 not in codes[:8]


def test_api_token_endpoint_is_limited(app, member):
    client = app.test_client()
    codes = [
        client.post(
            "/api/v1/auth/token", json={"username": member.username, "password": "bad bad bad"}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    again = client.post(
        "/api/v1/auth/token", json={"username": member.username, "password": member.password}
    )
    assert again.get_json()["error"]["code"] == "rate_limited"


def test_posting_is_rate_limited_per_user(app, member, make_thread):
    thread_id = make_thread(member)  # creating the thread counts as one post
    client = app.test_client()
    login(client, member)
    assert client.post(f"/t/{thread_id}/reply", data={"body": "one"}).status_code == 302
    blocked = client.post(f"/t/{thread_id}/reply", data={"body": "two"})
    assert blocked.status_code == 422
    assert "posting too fast" in blocked.get_data(as_text=True)
