"""Account email: verification at sign-up, password reset (signed, single-use,
expiring, the same answer for every address), email change confirmed to both."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from forum.accounts.models import User
from forum.campaigns.models import AccountToken
from forum.clock import now
from forum.extensions import db
from tests.conftest import PASSWORD, login

from .conftest import contact_of, link_in, outbox

NEW_PASSWORD = "lantern orchard quietly 42"


def test_sign_up_sends_a_verification_link_that_verifies_once(app, client):
    response = client.post(
        "/register",
        data={"username": "newbie", "email": "newbie@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    (message,) = outbox(app)
    assert message.to == ["newbie@example.com"] and "Confirm" in message.subject
    link = link_in(message, "/account/verify/")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "newbie"))
        assert contact_of(app, user.id).email_verified_at is None
    page = client.get(link)  # a mail scanner's fetch confirms nothing: the page asks
    assert page.status_code == 200 and "newbie@example.com" in page.get_data(as_text=True)
    assert contact_of(app, user.id).email_verified_at is None
    assert client.post(link).status_code == 302
    assert contact_of(app, user.id).email_verified_at is not None
    assert client.post(link).status_code == 400  # used
    assert client.get(link).status_code == 400
    assert client.get("/account/verify/not-a-token").status_code == 400


def test_api_registration_also_sends_the_verification(app, client):
    response = client.post(
        "/api/v1/auth/register",
        json={"username": "apinew", "email": "apinew@example.com", "password": PASSWORD},
    )
    assert response.status_code == 201
    assert [m.to for m in outbox(app)] == [["apinew@example.com"]]


def _reset_link(app, client, email="member@example.com") -> str:
    before = len(outbox(app))
    response = client.post("/api/v1/auth/password-reset", json={"email": email})
    assert response.status_code == 202 and response.get_json() == {"accepted": True}
    (message,) = outbox(app)[before:]
    return link_in(message, "/password/reset/").rsplit("/", 1)[1]


def test_password_reset_answers_the_same_for_unknown_addresses(app, client, member):
    known = client.post("/api/v1/auth/password-reset", json={"email": "member@example.com"})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"})
    malformed = client.post("/api/v1/auth/password-reset", json={"email": "not an address"})
    assert known.status_code == unknown.status_code == malformed.status_code == 202
    assert known.get_data() == unknown.get_data() == malformed.get_data()
    assert [m.to for m in outbox(app)] == [["member@example.com"]]
    page_known = client.post("/password/forgot", data={"email": "member@example.com"})
    page_unknown = client.post("/password/forgot", data={"email": "nobody@example.com"})
    assert page_known.status_code == page_unknown.status_code == 302
    assert page_known.headers["Location"] == page_unknown.headers["Location"]


def test_a_reset_token_works_once_and_ends_every_session(app, client, member, member_client):
    token = _reset_link(app, client)
    ok = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
    )
    assert ok.status_code == 200 and ok.get_json() == {"username": "member"}
    again = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "another pass 99x"}
    )
    assert again.status_code == 400 and again.get_json()["error"]["code"] == "invalid_token"
    assert member_client.get("/settings").status_code == 302  # the old session is over
    fresh = app.test_client()
    assert (
        fresh.post("/login", data={"username": "member", "password": PASSWORD}).status_code != 302
    )
    assert (
        fresh.post("/login", data={"username": "member", "password": NEW_PASSWORD}).status_code
        == 302
    )


def test_a_reset_token_expires_and_a_forged_one_is_refused(app, client, member):
    token = _reset_link(app, client)
    with time_machine.travel(now() + timedelta(hours=1, minutes=2)):
        late = client.post(
            "/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD}
        )
    assert late.status_code == 400 and late.get_json()["error"]["code"] == "invalid_token"
    forged = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token[:-3] + "abc", "password": NEW_PASSWORD},
    )
    assert forged.status_code == 400
    assert client.get(f"/password/reset/{token}").status_code == 200  # still live now
    with app.app_context():  # nothing changed: the old password still works
        assert db.session.scalar(select(AccountToken.used_at)) is None


def test_a_weak_password_keeps_the_token_usable(app, client, member):
    token = _reset_link(app, client)
    weak = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "password"}
    )
    assert weak.status_code == 422
    page = client.post(f"/password/reset/{token}", data={"password": NEW_PASSWORD})
    assert page.status_code == 302


def test_email_change_is_confirmed_at_the_new_address_and_told_to_both(app, member, member_client):
    response = member_client.post("/settings/email/address", data={"em-email": "moved@example.com"})
    assert response.status_code == 302
    to_new, to_old = outbox(app)
    assert to_new.to == ["moved@example.com"] and to_old.to == ["member@example.com"]
    assert "moved@example.com" in to_old.body
    with app.app_context():
        assert db.session.get(User, member.id).email == "member@example.com"  # not yet
    link = link_in(to_new, "/account/email/confirm/")
    page = member_client.get(link)
    assert page.status_code == 200 and "moved@example.com" in page.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.get(User, member.id).email == "member@example.com"
        )  # a GET changes nothing
    assert len(outbox(app)) == 2
    assert member_client.post(link).status_code == 302
    with app.app_context():
        assert db.session.get(User, member.id).email == "moved@example.com"
    assert {tuple(m.to) for m in outbox(app)[2:]} == {
        ("member@example.com",),
        ("moved@example.com",),
    }
    assert member_client.post(link).status_code == 400  # once
    assert member_client.get(link).status_code == 400


def test_email_change_to_a_taken_address_is_refused(app, member, member_client, make_user):
    make_user("other")
    response = member_client.post("/settings/email/address", data={"em-email": "other@example.com"})
    assert response.status_code == 422
    assert "An account with that email exists." in response.get_data(as_text=True)
    assert outbox(app) == []


def test_another_user_cannot_use_someone_elses_settings(app, client, member):
    assert client.get("/settings/email").status_code == 302  # login needed
    assert client.patch("/api/v1/me/settings", json={"marketing_email": False}).status_code == 401
    login(client, member)
    assert client.get("/settings/email").status_code == 200
