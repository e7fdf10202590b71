"""Reactions beside the like: a fixed set, one of each per member and post."""

from forum.extensions import db
from forum.social.models import PostReaction


def reaction_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(PostReaction))


def test_reacting_counts_once_per_member_and_shows_beside_the_like(
    app, make_user, make_thread, api_for, first_post_id
):
    alice, bob = make_user("alice"), make_user("bob")
    thread_id = make_thread(alice)
    post_id = first_post_id(thread_id)
    a, b = api_for(alice), api_for(bob)
    assert a.post(f"/api/v1/posts/{post_id}/reactions/laugh").status_code == 201
    answer = b.post(f"/api/v1/posts/{post_id}/reactions/laugh")
    assert answer.status_code == 201
    assert answer.json["reactions"] == [
        {"reaction": "laugh", "emoji": "😂", "count": 2, "mine": True}
    ]
    again = b.post(f"/api/v1/posts/{post_id}/reactions/laugh")
    assert again.status_code == 409 and again.json["error"]["code"] == "already_reacted"
    assert reaction_rows(app) == 2
    page = b.client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert "😂 <span>2</span>" in page and 'value="laugh" aria-pressed="true"' in page
    removed = b.delete(f"/api/v1/posts/{post_id}/reactions/laugh")
    assert removed.status_code == 200 and removed.json["reactions"][0]["count"] == 1
    assert not removed.json["reactions"][0]["mine"]
    listed = a.client.get(f"/api/v1/posts/{post_id}/reactions")
    assert listed.json["reactions"][0] == {
        "reaction": "laugh",
        "emoji": "😂",
        "count": 1,
        "mine": True,
    }


def test_the_form_toggles_without_script_and_answers_json_to_a_script(
    app, make_user, make_thread, api_for, first_post_id
):
    alice = make_user("alice")
    thread_id = make_thread(alice)
    post_id = first_post_id(thread_id)
    client = api_for(alice).client
    plain = client.post(f"/p/{post_id}/react", data={"reaction": "party"})
    assert plain.status_code == 302 and reaction_rows(app) == 1
    scripted = client.post(
        f"/p/{post_id}/react", data={"reaction": "party"}, headers={"Accept": "application/json"}
    )
    assert scripted.status_code == 200 and scripted.json == {"reactions": []}
    assert reaction_rows(app) == 0


def test_bad_reactions_and_unseen_posts_are_refused_and_nothing_is_written(
    app, make_user, make_thread, api_for, first_post_id, client
):
    alice = make_user("alice")
    post_id = first_post_id(make_thread(alice))
    a = api_for(alice)
    bad = a.post(f"/api/v1/posts/{post_id}/reactions/poop")
    assert bad.status_code == 422 and "reaction" in bad.json["error"]["fields"]
    assert a.post(f"/api/v1/posts/{post_id}/reactions/").status_code in (404, 405)
    assert a.post("/api/v1/posts/999999/reactions/wow").status_code == 404
    assert a.client.post(f"/p/{post_id}/react", data={"reaction": "nope"}).status_code in (302, 422)
    assert client.post(f"/api/v1/posts/{post_id}/reactions/wow").status_code == 401
    assert reaction_rows(app) == 0


def test_a_hidden_post_takes_no_reactions_from_others(
    app, make_user, make_thread, api_for, first_post_id
):
    from forum.board.models import Post
    from forum.clock import now

    alice, bob = make_user("alice"), make_user("bob")
    post_id = first_post_id(make_thread(alice))
    with app.app_context():
        db.session.get(Post, post_id).hidden_at = now()
        db.session.commit()
    answer = api_for(bob).post(f"/api/v1/posts/{post_id}/reactions/wow")
    assert answer.status_code == 404 and reaction_rows(app) == 0


def test_a_form_without_its_csrf_token_is_refused(app, make_user, make_thread, first_post_id):
    from tests.conftest import login

    alice = make_user("alice")
    post_id = first_post_id(make_thread(alice))
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    login_client = client
    app.config["WTF_CSRF_ENABLED"] = False
    login(login_client, alice)
    app.config["WTF_CSRF_ENABLED"] = True
    refused = client.post(f"/p/{post_id}/react", data={"reaction": "wow"})
    assert refused.status_code == 400 and reaction_rows(app) == 0
    cookie_api = client.post(f"/api/v1/posts/{post_id}/reactions/wow")
    assert cookie_api.status_code == 403 and reaction_rows(app) == 0
