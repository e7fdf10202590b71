from sqlalchemy import func, select

from forum.accounts.models import User
from forum.extensions import db
from tests.conftest import login


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def register(
    client, username="newbie", email="newbie@example.com", password="long enough passphrase"
):
    return client.post(
        "/register", data={"username": username, "email": email, "password": password}
    )


def test_register_logs_in_and_welcomes(app, client):
    response = register(client)
    assert response.status_code == 302
    assert "newbie" in client.get("/").get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "newbie"))
        assert user.password_hash != "long enough passphrase" and user.password_hash.startswith(
            "pbkdf2:"
        )


def test_register_refuses_taken_name_case_insensitively(app, client, make_user):
    make_user("Alice")
    before = count_users(app)
    response = register(client, username="alice", email="other@example.com")
    assert response.status_code == 422
    assert "That username is taken." in response.get_data(as_text=True)
    assert count_users(app) == before


def test_register_refuses_taken_email_any_case(app, client, make_user):
    make_user("alice")
    response = register(client, username="someone", email="ALICE@example.com")
    assert response.status_code == 422
    assert "An account with that email exists." in response.get_data(as_text=True)


def test_register_refuses_bad_email_and_short_password(app, client):
    before = count_users(app)
    bad_email = register(client, email="not-an-email")
    assert bad_email.status_code == 422 and "valid email" in bad_email.get_data(as_text=True)
    short = register(client, password="short")
    assert short.status_code == 422 and "8" in short.get_data(as_text=True)
    weird_name = register(client, username="a b<script>")
    assert weird_name.status_code == 422
    assert "<script>" not in weird_name.get_data(as_text=True).split("</form>")[0].split("<form")[1]
    assert count_users(app) == before


def test_login_with_wrong_password_or_unknown_user_gives_the_same_answer(client, member):
    wrong = client.post("/login", data={"username": member.username, "password": "nope nope"})
    unknown = client.post("/login", data={"username": "ghost", "password": "nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.get_data(as_text=True)
    assert "Wrong username or password." in unknown.get_data(as_text=True)


def test_login_username_is_case_insensitive(client, make_user):
    user = make_user("Bertha")
    response = client.post("/login", data={"username": "bertha", "password": user.password})
    assert response.status_code == 302


def test_next_parameter_only_redirects_on_site(client, member):
    ok = client.post(
        "/login?next=/search", data={"username": member.username, "password": member.password}
    )
    assert ok.headers["Location"] == "/search"
    client.post("/logout")
    evil = client.post(
        "/login?next=//evil.example/x",
        data={"username": member.username, "password": member.password},
    )
    assert evil.headers["Location"] == "/"


def test_logout_ends_every_session_of_the_user(app, member):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, member)
    login(phone, member, remember=True)
    assert phone.get("/settings").status_code == 200
    laptop.post("/logout")
    # The phone's session and its remember-me cookie are both dead now.
    response = phone.get("/settings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_password_change_ends_other_sessions_and_keeps_this_one(app, member):
    this, other = app.test_client(), app.test_client()
    login(this, member)
    login(other, member)
    response = this.post(
        "/settings/password",
        data={"pw-current_password": member.password, "pw-new_password": "a brand new secret"},
    )
    assert response.status_code == 302
    assert this.get("/settings").status_code == 200
    assert other.get("/settings").status_code == 302
    assert (
        app.test_client()
        .post("/login", data={"username": member.username, "password": member.password})
        .status_code
        == 401
    )


def test_password_change_with_wrong_current_password_changes_nothing(app, member, member_client):
    response = member_client.post(
        "/settings/password",
        data={"pw-current_password": "wrong one!", "pw-new_password": "a brand new secret"},
    )
    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)
    login(app.test_client(), member)


def test_session_rotates_at_login(app, client, member):
    client.get("/login")
    client.set_cookie("session", "planted-by-attacker")
    login(client, member)
    assert client.get_cookie("session").value != "planted-by-attacker"


def test_profile_shows_initials_bio_join_date_and_post_count(
    app, member, member_client, make_thread
):
    make_thread(member, body="hello")
    member_client.post("/settings", data={"bio": "I bake bread.", "timezone": "Europe/Paris"})
    page = member_client.get(f"/u/{member.username}").get_data(as_text=True)
    assert "I bake bread." in page
    assert ">ME<" in page  # initials of "member"
    assert "Joined" in page and "<dd>1</dd>" in page


def test_profile_rejects_unknown_timezone(member_client):
    response = member_client.post("/settings", data={"bio": "x", "timezone": "Mars/Olympus"})
    assert response.status_code == 422


def test_unknown_profile_is_404(client):
    assert client.get("/u/nobody-here").status_code == 404


def test_cli_creates_privileged_users(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "boss",
            "--email",
            "boss@example.com",
            "--password",
            "cellar door passphrase",
            "--role",
            "admin",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.username == "boss")) == "admin"
    again = runner.invoke(
        args=[
            "users",
            "create",
            "BOSS",
            "--email",
            "b2@example.com",
            "--password",
            "cellar door passphrase",
        ]
    )
    assert again.exit_code != 0 and "taken" in again.output


def test_suspended_user_cannot_log_in_and_is_logged_out(app, make_user):
    from forum.moderation import service as moderation

    mod = make_user("mod", role="moderator")
    target = make_user("troll")
    client = app.test_client()
    login(client, target)
    with app.app_context(), app.test_request_context("/"):
        moderation.suspend(
            db.session.get(User, mod.id), db.session.get(User, target.id), 3 * 24 * 60, "spam"
        )
        db.session.commit()
    assert client.get("/settings").status_code == 302
    refused = app.test_client().post(
        "/login", data={"username": "troll", "password": target.password}
    )
    assert refused.status_code == 401 and "suspended" in refused.get_data(as_text=True)
