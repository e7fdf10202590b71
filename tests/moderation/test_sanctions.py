"""Silence (reads, cannot post or chat) and suspension (cannot log in), each for a time
with a reason the member sees, ending on time by themselves (a controlled clock)."""

from datetime import timedelta

from sqlalchemy import select

from forum.accounts.models import User
from forum.clock import now, replaying
from forum.extensions import db
from forum.moderation.models import AuditEntry
from tests.conftest import app_context, login


def _silence(client, token, username, minutes=60, reason="Spamming links"):
    return client.post(
        f"/api/v1/admin/users/{username}/silence",
        json={"minutes": minutes, "reason": reason},
        headers=token,
    )


def test_a_silenced_member_reads_but_cannot_post_or_chat_until_it_ends(
    app, client, make_user, make_thread, token_for
):
    spammer, mod = make_user("spammer"), make_user("mod", role="moderator")
    thread_id = make_thread(make_user("host"))
    mod_token, spam_token = token_for(mod), token_for(spammer)
    assert (
        client.post(
            "/api/v1/chat/rooms", json={"slug": "lobby", "name": "Lobby"}, headers=mod_token
        ).status_code
        == 201
    )
    done = _silence(client, mod_token, "spammer")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["silence_reason"] == "Spamming links"
    reply = client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "buy now"}, headers=spam_token
    )
    assert reply.status_code == 403 and reply.get_json()["error"]["code"] == "silenced"
    assert "Spamming links" in reply.get_json()["error"]["message"]
    chat = client.post(
        "/api/v1/chat/rooms/lobby/messages", json={"body": "buy"}, headers=spam_token
    )
    assert chat.status_code == 403 and chat.get_json()["error"]["code"] == "silenced"
    assert client.get(f"/api/v1/threads/{thread_id}", headers=spam_token).status_code == 200
    assert client.get("/api/v1/me", headers=spam_token).status_code == 200
    with app_context(app):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.silence"))
        assert (entry.actor_id, entry.subject_id, entry.reason) == (
            mod.id,
            spammer.id,
            "Spamming links",
        )
    with replaying(now() + timedelta(minutes=61)):
        later = client.post(
            f"/api/v1/threads/{thread_id}/posts", json={"body": "sorry"}, headers=spam_token
        )
        assert later.status_code == 201
        assert (
            client.post(
                "/api/v1/chat/rooms/lobby/messages", json={"body": "hi"}, headers=spam_token
            ).status_code
            == 201
        )


def test_silence_needs_a_reason_and_sane_minutes_and_changes_nothing_otherwise(
    app, client, make_user, token_for
):
    make_user("spammer")
    mod = token_for(make_user("mod", role="moderator"))
    for body in (
        {"minutes": 60, "reason": ""},
        {"minutes": 60, "reason": "   "},
        {"minutes": 60},
        {"minutes": 0, "reason": "x"},
        {"minutes": 10**12, "reason": "x"},
        {"minutes": "60", "reason": "x"},
        {"minutes": 60, "reason": "x" * 501},
    ):
        response = client.post("/api/v1/admin/users/spammer/silence", json=body, headers=mod)
        assert response.status_code == 422, body
    assert _silence(client, mod, "nobody").status_code == 404
    with app_context(app):
        user = db.session.scalar(select(User).where(User.username == "spammer"))
        assert user.silenced_until is None and user.silence_reason == ""
        assert db.session.scalar(select(AuditEntry.id)) is None


def test_moderators_cannot_sanction_admins_or_themselves(app, client, make_user, token_for):
    admin, mod, _other_mod = (
        make_user("boss", role="admin"),
        make_user("mod", role="moderator"),
        make_user("mod2", role="moderator"),
    )
    token = token_for(mod)
    assert _silence(client, token, "boss").status_code == 403
    assert _silence(client, token, "mod2").status_code == 403
    assert _silence(client, token, "mod").status_code == 403
    assert _silence(client, token_for(admin), "mod2").status_code == 200


def test_a_suspended_member_cannot_log_in_is_told_why_and_returns_on_time(
    app, client, make_user, token_for
):
    troll, mod = make_user("troll"), make_user("mod", role="moderator")
    troll_token = token_for(troll)
    page = app.test_client()
    login(page, troll)
    suspended = client.post(
        "/api/v1/admin/users/troll/suspend",
        json={"minutes": 120, "reason": "Harassing members"},
        headers=token_for(mod),
    )
    assert suspended.status_code == 200
    assert page.get("/settings").status_code == 302  # the session ended
    assert client.get("/api/v1/me", headers=troll_token).status_code == 401
    refused = client.post(
        "/api/v1/auth/token", json={"username": "troll", "password": troll.password}
    )
    assert (
        refused.status_code == 401 and "Harassing members" in refused.get_json()["error"]["message"]
    )
    form = app.test_client().post("/login", data={"username": "troll", "password": troll.password})
    assert "Harassing members" in form.get_data(as_text=True)
    with replaying(now() + timedelta(minutes=121)):
        back = client.post(
            "/api/v1/auth/token", json={"username": "troll", "password": troll.password}
        )
        assert back.status_code == 200


def test_the_admin_pages_sanction_with_a_reason(app, make_user):
    make_user("spammer")
    mod = make_user("mod", role="moderator")
    page = app.test_client()
    login(page, mod)
    assert (
        page.post("/mod/u/spammer/silence", data={"minutes": "30", "reason": ""}).status_code == 422
    )
    assert (
        page.post(
            "/mod/u/spammer/silence", data={"minutes": "30", "reason": "flooding"}
        ).status_code
        == 302
    )
    html = page.get("/admin/users/spammer").get_data(as_text=True)
    assert "Silenced until" in html and "flooding" in html and "user.silence" in html
    assert "spammer" in page.get("/admin/users?q=spa").get_data(as_text=True)
    assert "spammer" in page.get("/admin/users?status=silenced").get_data(as_text=True)
    assert page.post("/mod/u/spammer/unsilence", data={"reason": ""}).status_code == 422
    assert page.post("/mod/u/spammer/unsilence", data={"reason": "appealed"}).status_code == 302
    with app_context(app):
        assert (
            db.session.scalar(select(User).where(User.username == "spammer")).silenced_until is None
        )
