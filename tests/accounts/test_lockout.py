"""Failed logins are limited per (account, address) and per address, never per account
alone: a stranger guessing cannot lock the owner out."""

import pytest

STRANGER = {"REMOTE_ADDR": "203.0.113.9"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def _login(client, username, password, environ):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base=environ
    )


@pytest.fixture
def config_overrides():
    return {
        "RATELIMIT_ENABLED": True,
        "LOGIN_LIMIT_PER_ACCOUNT": "3/minute",
        "LOGIN_FAILURES_PER_IP": "5/minute",
        "LOGIN_LIMIT_PER_IP": "50/minute",
    }


def _login(client, username, password, environ):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base=environ
    )


def test_a_stranger_guessing_does_not_lock_the_owner_out_from_another_address(app, member):
    stranger, owner = app.test_client(), app.test_client()
    codes = [
        _login(stranger, member.username, "wrong guess", STRANGER).status_code for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    assert _login(owner, member.username, member.password, OWNER).status_code == 302


def test_failures_over_many_accounts_from_one_address_are_capped(app, make_user):
    users = [make_user(f"spray{i}") for i in range(3)]
    client = app.test_client()
    codes = [
        _login(client, users[i % 3].username, "wrong guess", STRANGER).status_code for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    # Still refused with a right password from that address; fine from another one.
    assert _login(client, users[0].username, users[0].password, STRANGER).status_code == 429
    assert _login(app.test_client(), users[0].username, users[0].password, OWNER).status_code == 302
