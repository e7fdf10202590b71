"""Bookmarks: a post or thread kept by a member, listed newest first, theirs alone."""

from forum.extensions import db
from forum.social.models import Bookmark


def bookmark_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Bookmark))


def test_bookmark_a_post_and_a_thread_list_them_and_remove_one(
    app, make_user, make_thread, api_for, first_post_id
):
    alice = make_user("alice")
    thread_id = make_thread(alice, title="Espresso grinders compared")
    post_id = first_post_id(thread_id)
    a = api_for(alice)
    made = a.post("/api/v1/bookmarks", json={"post_id": post_id})
    assert made.status_code == 201
    assert (
        made.json["title"] == "Espresso grinders compared" and made.json["url"] == f"/p/{post_id}"
    )
    assert a.post("/api/v1/bookmarks", json={"thread_id": thread_id}).status_code == 201
    dup = a.post("/api/v1/bookmarks", json={"post_id": post_id})
    assert dup.status_code == 409 and dup.json["error"]["code"] == "already_bookmarked"
    listed = a.get("/api/v1/bookmarks").json
    assert [b["kind"] for b in listed["items"]] == ["thread", "post"]
    page = a.client.get("/bookmarks").get_data(as_text=True)
    assert page.count("Espresso grinders compared") == 2
    assert a.delete(f"/api/v1/bookmarks/{made.json['id']}").status_code == 204
    assert [b["kind"] for b in a.get("/api/v1/bookmarks").json["items"]] == ["thread"]


def test_the_list_is_keyset_paginated(app, make_user, make_thread, api_for, first_post_id):
    alice = make_user("alice")
    a = api_for(alice)
    ids = [first_post_id(make_thread(alice, title=f"Thread number {n}")) for n in range(5)]
    for post_id in ids:
        a.post("/api/v1/bookmarks", json={"post_id": post_id})
    first = a.get("/api/v1/bookmarks?limit=2").json
    second = a.get(f"/api/v1/bookmarks?limit=2&cursor={first['next_cursor']}").json
    third = a.get(f"/api/v1/bookmarks?limit=2&cursor={second['next_cursor']}").json
    seen = [b["target_id"] for b in first["items"] + second["items"] + third["items"]]
    assert seen == ids[::-1] and third["next_cursor"] is None
    page = a.client.get("/bookmarks?limit=2").get_data(as_text=True)
    assert 'rel="next"' in page
    assert a.get("/api/v1/bookmarks?cursor=forged!").status_code == 422


def test_another_members_bookmarks_are_not_theirs_to_see_or_remove(
    app, make_user, make_thread, api_for, first_post_id
):
    alice, bob = make_user("alice"), make_user("bob")
    post_id = first_post_id(make_thread(alice))
    made = api_for(alice).post("/api/v1/bookmarks", json={"post_id": post_id}).json
    b = api_for(bob)
    assert b.get("/api/v1/bookmarks").json["items"] == []
    assert b.delete(f"/api/v1/bookmarks/{made['id']}").status_code == 404
    assert b.client.post(f"/bookmarks/{made['id']}/delete").status_code == 404
    assert bookmark_rows(app) == 1


def test_bad_input_is_refused_and_nothing_is_written(
    app, make_user, make_thread, api_for, first_post_id, client
):
    alice = make_user("alice")
    thread_id = make_thread(alice)
    a = api_for(alice)
    assert a.post("/api/v1/bookmarks", json={}).status_code == 422
    both = {"post_id": first_post_id(thread_id), "thread_id": thread_id}
    assert a.post("/api/v1/bookmarks", json=both).status_code == 422
    assert a.post("/api/v1/bookmarks", json={"post_id": "1"}).status_code == 422
    assert a.post("/api/v1/bookmarks", json={"post_id": 999999}).status_code == 404
    assert a.client.post("/bookmarks/toggle", data={"kind": "user", "id": "1"}).status_code == 400
    assert a.client.post("/bookmarks/toggle", data={"kind": "post", "id": "x"}).status_code == 400
    assert client.get("/bookmarks").status_code == 302  # visitors are sent to log in
    assert bookmark_rows(app) == 0


def test_a_bookmarked_post_that_goes_away_stays_listed_without_its_content(
    app, make_user, make_thread, api_for, first_post_id
):
    from forum.board.models import Post
    from forum.clock import now

    alice, bob = make_user("alice"), make_user("bob")
    post_id = first_post_id(make_thread(alice, title="Soon hidden from view"))
    b = api_for(bob)
    b.client.post("/bookmarks/toggle", data={"kind": "post", "id": str(post_id)})
    with app.app_context():
        db.session.get(Post, post_id).hidden_at = now()
        db.session.commit()
    item = b.get("/api/v1/bookmarks").json["items"][0]
    assert item["available"] is False and item["title"] is None and item["url"] is None
    assert "Soon hidden" not in b.client.get("/bookmarks").get_data(as_text=True)


def test_the_button_toggles(app, make_user, make_thread, api_for):
    alice = make_user("alice")
    thread_id = make_thread(alice)
    client = api_for(alice).client
    on = client.post(
        "/bookmarks/toggle",
        data={"kind": "thread", "id": str(thread_id)},
        headers={"Accept": "application/json"},
    )
    assert on.json == {"bookmarked": True}
    assert "Thread bookmarked" in client.get(f"/t/{thread_id}").get_data(as_text=True)
    off = client.post("/bookmarks/toggle", data={"kind": "thread", "id": str(thread_id)})
    assert off.status_code == 302 and bookmark_rows(app) == 0
