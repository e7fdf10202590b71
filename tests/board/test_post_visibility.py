"""One visibility rule for every route that reads a post: walked over the URL map."""

import pytest
from sqlalchemy import select

from forum.board import service as board
from forum.board.models import Post
from forum.extensions import db
from tests.conftest import login

SECRET = "the secret words of a post nobody else may read"
VALUES = {"action": "hide", "reaction": "thanks"}


def post_rules(app):
    """Every (method, rule) of the app whose URL names a post."""
    for rule in app.url_map.iter_rules():
        if "post_id" in rule.arguments:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, rule


def call(client, method, rule, post: dict):
    values = {**VALUES, "post_id": post["id"], "thread_id": post["thread_id"]}
    url = rule.build(values, append_unknown=False)[1]
    if rule.rule.startswith("/api/"):  # the API authenticates by token
        headers = getattr(client, "api_headers", {})
        return client.open(url, method=method, json={"body": "replaced text"}, headers=headers)
    return client.open(url, method=method, data={"body": "replaced text"})


@pytest.fixture
def people(app, make_user, token_for):
    clients = {}
    users = {
        "author": make_user("author"),
        "member": make_user("bystander"),
        "moderator": make_user("mod", role="moderator"),
    }
    for name, user in users.items():
        clients[name] = app.test_client()
        login(clients[name], user)
        clients[name].api_headers = token_for(user)
    clients["anonymous"] = app.test_client()
    return users, clients


def make_reply(app, make_thread, users, *, deleted=False, hidden=False, edited=True) -> dict:
    thread_id = make_thread(users["author"], body="The opening post stays visible")
    from forum.accounts.models import User
    from forum.board import service

    with app.app_context(), app.test_request_context("/"):
        author = db.session.get(User, users["author"].id)
        thread = service.get_thread(thread_id)
        post = service.reply(author, thread, SECRET)
        if edited:
            service.edit_post(author, post, SECRET + " (edited)")
        if hidden:
            mod = db.session.get(User, users["moderator"].id)
            board.set_hidden(mod, post, True, "test")
        if deleted:
            service.delete_post(author, post)
        db.session.commit()
        return {"id": post.id, "thread_id": thread_id}


def assert_not_readable(response, who, method, rule):
    where = f"{who} {method} {rule.rule}"
    assert SECRET not in response.get_data(as_text=True), where
    if response.status_code in (301, 302, 303):
        assert "/login" in response.headers["Location"], where  # never to the post itself
    else:
        # A DELETE's body is a moderator's reason: the probe's unknown field is refused first.
        refusals = (401, 403, 404, 409) + ((422,) if method == "DELETE" else ())
        assert response.status_code in refusals, (where, response.status_code)


def test_deleted_post_is_readable_on_no_route_but_by_moderators(app, make_thread, people):
    users, clients = people
    post = make_reply(app, make_thread, users, deleted=True)
    walked = 0
    for method, rule in post_rules(app):
        for who in ("anonymous", "member", "author"):
            assert_not_readable(call(clients[who], method, rule, post), who, method, rule)
            walked += 1
    assert walked >= 3 * 10  # the page, fragment, edit, revisions, delete, like, mod, API...
    # Nothing was changed by all those calls, and a moderator still reads every word.
    with app.app_context():
        assert db.session.get(Post, post["id"]).body == SECRET + " (edited)"
    for method, rule in post_rules(app):
        if method == "GET":
            response = call(clients["moderator"], method, rule, post)
            assert response.status_code != 404, rule.rule  # (editing it is a 409)
    history = clients["moderator"].get(f"/p/{post['id']}/revisions").get_data(as_text=True)
    assert SECRET in history


def test_hidden_post_is_readable_by_its_author_and_moderators_only(app, make_thread, people):
    users, clients = people
    post = make_reply(app, make_thread, users, hidden=True)
    for method, rule in post_rules(app):
        for who in ("anonymous", "member"):
            assert_not_readable(call(clients[who], method, rule, post), who, method, rule)
    for who in ("author", "moderator"):
        history = clients[who].get(f"/p/{post['id']}/revisions")
        assert history.status_code == 200 and SECRET in history.get_data(as_text=True), who


def test_visible_post_is_readable_by_everyone(app, make_thread, people):
    users, clients = people
    post = make_reply(app, make_thread, users)
    for who in ("anonymous", "member", "author", "moderator"):
        history = clients[who].get(f"/p/{post['id']}/revisions")
        assert history.status_code == 200 and SECRET in history.get_data(as_text=True), who
        fragment = clients[who].get(f"/t/{post['thread_id']}/fragment/{post['id']}")
        assert fragment.status_code == 200, who


def test_deleted_post_keeps_its_note_in_the_thread_without_its_text(app, make_thread, people):
    users, clients = people
    post = make_reply(app, make_thread, users, deleted=True)
    page = clients["member"].get(f"/t/{post['thread_id']}").get_data(as_text=True)
    assert "This post was deleted." in page and SECRET not in page
    with app.app_context():
        assert db.session.scalar(select(Post.deleted_at).where(Post.id == post["id"]))


def test_author_deleting_a_deleted_post_again_hears_it_was_deleted(app, make_thread, people):
    users, clients = people
    post = make_reply(app, make_thread, users, deleted=True)
    url = f"/api/v1/posts/{post['id']}"
    again = clients["author"].delete(url, headers=clients["author"].api_headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "post_deleted"
    assert clients["member"].delete(url, headers=clients["member"].api_headers).status_code == 404
