import pytest
from sqlalchemy import func, select

from forum.board.models import Category, Post, Thread
from forum.extensions import db


def error(response):
    return response.get_json()["error"]


@pytest.fixture
def admin(make_user):
    return make_user("root", role="admin")


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_categories_list_and_admin_only_creation(app, client, admin, member, token_for):
    created = client.post(
        "/api/v1/categories",
        json={"slug": "tech", "name": "Tech", "description": "Gadgets"},
        headers=token_for(admin),
    )
    assert created.status_code == 201 and created.get_json()["slug"] == "tech"
    assert client.get("/api/v1/categories").get_json() == [
        {"id": created.get_json()["id"], "slug": "tech", "name": "Tech", "description": "Gadgets"}
    ]
    refused = client.post(
        "/api/v1/categories", json={"slug": "mine", "name": "Mine"}, headers=token_for(member)
    )
    assert refused.status_code == 403
    anonymous = client.post("/api/v1/categories", json={"slug": "anon", "name": "Anon"})
    assert anonymous.status_code == 401
    duplicate = client.post(
        "/api/v1/categories", json={"slug": "tech", "name": "Again"}, headers=token_for(admin)
    )
    assert duplicate.status_code == 409
    bad = client.post(
        "/api/v1/categories", json={"slug": "Bad Slug!", "name": ""}, headers=token_for(admin)
    )
    assert bad.status_code == 422 and set(error(bad)["fields"]) == {"slug", "name"}
    unknown_field = client.post(
        "/api/v1/categories",
        json={"slug": "ok", "name": "Ok", "colour": "red"},
        headers=token_for(admin),
    )
    assert unknown_field.status_code == 422 and "colour" in error(unknown_field)["fields"]
    assert count(app, Category) == 1


def test_thread_create_read_reply_edit_delete(
    app, client, member, make_category, token_for, make_user
):
    make_category("general")
    auth = token_for(member)
    created = client.post(
        "/api/v1/threads",
        json={"category": "general", "title": "API thread", "body": "Hi [[product:3]]"},
        headers=auth,
    )
    assert created.status_code == 201
    thread = created.get_json()
    assert thread["category"] == "general" and thread["title"] == "API thread"
    first = thread["first_post"]
    assert first["author"] == {"id": member.id, "username": "member", "trust_level": 1}
    assert first["embeds"] == [{"kind": "product", "id": 3, "href": "/offer-unavailable"}]
    assert '<plaza-embed kind="product" ref="3">' in first["body_html"]

    reply = client.post(
        f"/api/v1/threads/{thread['id']}/posts", json={"body": "A *reply*"}, headers=auth
    )
    assert reply.status_code == 201 and "<em>reply</em>" in reply.get_json()["body_html"]
    edited = client.patch(
        f"/api/v1/posts/{reply.get_json()['id']}", json={"body": "An edited reply"}, headers=auth
    )
    assert edited.status_code == 200 and edited.get_json()["edited_at"] is not None

    other = token_for(make_user("other"))
    assert (
        client.patch(
            f"/api/v1/posts/{reply.get_json()['id']}", json={"body": "mine now"}, headers=other
        ).status_code
        == 403
    )
    assert (
        client.delete(f"/api/v1/posts/{reply.get_json()['id']}", headers=other).status_code == 403
    )
    assert client.delete(f"/api/v1/posts/{reply.get_json()['id']}", headers=auth).status_code == 204
    again = client.delete(f"/api/v1/posts/{reply.get_json()['id']}", headers=auth)
    assert again.status_code == 409

    read = client.get(f"/api/v1/threads/{thread['id']}").get_json()
    assert (
        read["locked"] is False
        and read["pinned"] is False
        and read["author"]["username"] == "member"
    )
    assert [p["body"] for p in read["posts"]["items"]] == ["Hi [[product:3]]"]
    assert read["posts"]["next_cursor"] is None


def test_thread_creation_errors_write_nothing(app, client, member, make_category, token_for):
    make_category("general")
    auth = token_for(member)
    cases = [
        ({"category": "nope", "title": "Fine title", "body": "b"}, 404),
        ({"category": "general", "title": "", "body": "b"}, 422),
        ({"category": "general", "title": "Fine title", "body": "   "}, 422),
        ({"category": "general", "title": "Fine title"}, 422),
        ({"category": "general", "title": "t" * 201, "body": "b"}, 422),
        ({"category": "general", "title": "Fine title", "body": "x" * 50_001}, 422),
    ]
    for payload, status in cases:
        response = client.post("/api/v1/threads", json=payload, headers=auth)
        assert response.status_code == status, (payload, response.get_json())
        assert set(error(response)) == {"code", "message", "fields"}
    assert client.post("/api/v1/threads", json=cases[0][0]).status_code == 401
    assert count(app, Thread) == 0 and count(app, Post) == 0


def test_locked_thread_answers_403_thread_locked(
    app, client, member, make_thread, make_user, token_for
):
    thread_id = make_thread(member)
    mod = make_user("mod", role="moderator")
    mod_client = app.test_client()
    from tests.conftest import login

    login(mod_client, mod)
    mod_client.post(f"/mod/t/{thread_id}/lock", data={"reason": "cooling off"})
    refused = client.post(
        f"/api/v1/threads/{thread_id}/posts", json={"body": "hello?"}, headers=token_for(member)
    )
    assert refused.status_code == 403 and error(refused)["code"] == "thread_locked"
    assert client.get(f"/api/v1/threads/{thread_id}").get_json()["locked"] is True


def test_category_threads_paginate_pinned_first(app, client, member, make_thread, token_for):
    ids = [make_thread(member, title=f"Thread number {n}") for n in range(5)]
    with app.app_context():
        db.session.get(Thread, ids[0]).pinned = True
        db.session.commit()
    first = client.get("/api/v1/categories/general/threads?limit=2").get_json()
    assert [t["id"] for t in first["items"]] == [ids[0], ids[4]]
    second = client.get(
        f"/api/v1/categories/general/threads?limit=2&cursor={first['next_cursor']}"
    ).get_json()
    third = client.get(
        f"/api/v1/categories/general/threads?limit=2&cursor={second['next_cursor']}"
    ).get_json()
    assert [t["id"] for t in second["items"] + third["items"]] == [ids[3], ids[2], ids[1]]
    assert third["next_cursor"] is None
    assert client.get("/api/v1/categories/general/threads?limit=0").status_code == 422
    assert client.get("/api/v1/categories/general/threads?limit=101").status_code == 422
    assert client.get("/api/v1/categories/general/threads?cursor=garbage").status_code == 422
    assert client.get("/api/v1/categories/nowhere/threads").status_code == 404


def test_thread_posts_paginate_with_cursor(app, client, member, make_thread, token_for):
    thread_id = make_thread(member, body="p1")
    auth = token_for(member)
    for n in range(2, 6):
        client.post(f"/api/v1/threads/{thread_id}/posts", json={"body": f"p{n}"}, headers=auth)
    first = client.get(f"/api/v1/threads/{thread_id}?limit=2").get_json()["posts"]
    rest = client.get(
        f"/api/v1/threads/{thread_id}?limit=10&cursor={first['next_cursor']}"
    ).get_json()["posts"]
    assert [p["body"] for p in first["items"] + rest["items"]] == ["p1", "p2", "p3", "p4", "p5"]


def test_hidden_and_deleted_threads_are_404_for_others(
    app, client, member, make_thread, make_user, token_for
):
    thread_id = make_thread(member)
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.thread_id == thread_id))
        post_id = post.id
    assert client.delete(f"/api/v1/posts/{post_id}", headers=token_for(member)).status_code == 204
    assert client.get(f"/api/v1/threads/{thread_id}").status_code == 404
    assert (
        client.post(
            f"/api/v1/threads/{thread_id}/posts",
            json={"body": "x"},
            headers=token_for(make_user("outsider")),
        ).status_code
        == 404
    )
    mod = token_for(make_user("mod", role="moderator"))
    assert client.get(f"/api/v1/threads/{thread_id}", headers=mod).status_code == 200


def test_search_endpoint(app, client, member, make_thread):
    make_thread(member, title="Espresso grinders", body="Burr versus blade")
    found = client.get("/api/v1/search?q=burr").get_json()
    assert [item["label"] for item in found["items"]] == ["Espresso grinders"]
    assert found["next_cursor"] is None
    empty = client.get("/api/v1/search?q=")
    assert empty.status_code == 422 and "q" in error(empty)["fields"]


def test_likes_via_api(app, client, member, make_thread, make_user, token_for):
    thread_id = make_thread(member)
    fan = token_for(make_user("fan"))
    post_id = client.get(f"/api/v1/threads/{thread_id}").get_json()["posts"]["items"][0]["id"]
    assert client.post(f"/api/v1/posts/{post_id}/like", headers=fan).get_json() == {"like_count": 1}
    duplicate = client.post(f"/api/v1/posts/{post_id}/like", headers=fan)
    assert duplicate.status_code == 409 and error(duplicate)["code"] == "already_liked"
    assert client.delete(f"/api/v1/posts/{post_id}/like", headers=fan).get_json() == {
        "like_count": 0
    }
    assert client.post("/api/v1/posts/999/like", headers=fan).status_code == 404


def test_unknown_api_paths_and_methods_answer_json(client):
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404 and error(missing)["code"] == "not_found"
    wrong_method = client.put("/api/v1/categories")
    assert wrong_method.status_code == 405 and "error" in wrong_method.get_json()
