from sqlalchemy import func, select

from forum.accounts.models import ApiToken, User
from forum.extensions import db


def error_code(response):
    return response.get_json()["error"]["code"]


def test_register_returns_user_and_a_working_token(client):
    response = client.post(
        "/api/v1/auth/register",
        json={
            "username": "api_ann",
            "email": "ann@example.com",
            "password": "long enough passphrase",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["user"]["username"] == "api_ann" and body["user"]["roles"] == ["member"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json() | {} == {
        **me.get_json(),
        "username": "api_ann",
        "tier": "registered",
        "credit_cents": 0,
    }
    assert me.get_json()["points"] == 50  # welcome points from the ledger


def test_register_conflicts_and_validation(app, client, make_user):
    make_user("taken")
    name = client.post(
        "/api/v1/auth/register",
        json={"username": "TAKEN", "email": "n@example.com", "password": "long enough passphrase"},
    )
    assert name.status_code == 409 and error_code(name) == "username_taken"
    email = client.post(
        "/api/v1/auth/register",
        json={
            "username": "fresh",
            "email": "taken@example.com",
            "password": "long enough passphrase",
        },
    )
    assert email.status_code == 409 and error_code(email) == "email_taken"
    bad = client.post(
        "/api/v1/auth/register", json={"username": "x", "email": "nope", "password": "short"}
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"username", "email", "password"}
    missing = client.post("/api/v1/auth/register", json={"username": "fresh"})
    assert missing.status_code == 422 and {"email", "password"} <= set(
        missing.get_json()["error"]["fields"]
    )
    wrong_type = client.post(
        "/api/v1/auth/register", json={"username": 5, "email": [], "password": None}
    )
    assert wrong_type.status_code == 422
    not_json = client.post("/api/v1/auth/register", data="{oops", content_type="application/json")
    assert not_json.status_code == 422 and error_code(not_json) == "invalid_json"
    array = client.post("/api/v1/auth/register", json=[1, 2])
    assert array.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_token_exchange(app, client, member):
    ok = client.post(
        "/api/v1/auth/token", json={"username": member.username, "password": member.password}
    )
    assert ok.status_code == 200 and ok.get_json()["token"].startswith("plz_")
    with app.app_context():
        stored = db.session.scalar(select(ApiToken.token_hash))
        assert stored != ok.get_json()["token"] and len(stored) == 64
    wrong = client.post(
        "/api/v1/auth/token", json={"username": member.username, "password": "wrong!!!!"}
    )
    assert wrong.status_code == 401 and error_code(wrong) == "bad_credentials"
    unknown = client.post("/api/v1/auth/token", json={"username": "ghost", "password": "wrong!!!!"})
    assert unknown.status_code == 401 and unknown.get_json() == wrong.get_json()


def test_me_needs_a_valid_token(client, member, token_for):
    assert client.get("/api/v1/me").status_code == 401
    assert error_code(client.get("/api/v1/me")) == "not_authenticated"
    assert (
        client.get("/api/v1/me", headers={"Authorization": "Bearer plz_forged"}).status_code == 401
    )
    me = client.get("/api/v1/me", headers=token_for(member)).get_json()
    assert me["id"] == member.id and me["roles"] == ["member"]


def test_password_change_revokes_tokens(app, member, member_client, token_for):
    headers = token_for(member)
    member_client.post(
        "/settings/password",
        data={"pw-current_password": member.password, "pw-new_password": "another secret!"},
    )
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401


def test_openapi_document_lists_the_contract(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path, method in [
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/token", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/categories", "get"),
        ("/api/v1/categories", "post"),
        ("/api/v1/categories/{slug}/threads", "get"),
        ("/api/v1/threads", "post"),
        ("/api/v1/threads/{thread_id}", "get"),
        ("/api/v1/threads/{thread_id}/posts", "post"),
        ("/api/v1/posts/{post_id}", "patch"),
        ("/api/v1/posts/{post_id}", "delete"),
        ("/api/v1/search", "get"),
    ]:
        assert method in paths[path], (path, method)
    register = paths["/api/v1/auth/register"]["post"]
    schema_name = register["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit(
        "/", 1
    )[1]
    assert set(doc["components"]["schemas"][schema_name]["required"]) == {
        "username",
        "email",
        "password",
    }
