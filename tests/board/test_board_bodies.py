"""Bodies the renderer cannot show whole are refused as form errors; preview is limited."""

import pytest
from sqlalchemy import func, select

from forum.board.models import Post, Thread
from forum.extensions import db

TOO_DEEP = {
    "quotes 1000 deep": "> " * 1000 + "x",
    "lists 1000 deep": "- " * 1000 + "x",
    "quote lines 300 deep": "".join(">" * i + " x\n" for i in range(1, 300)),
}


def counts(app):
    with app.app_context():
        return db.session.scalar(select(func.count(Thread.id))), db.session.scalar(
            select(func.count(Post.id))
        )


@pytest.mark.parametrize("body", TOO_DEEP.values(), ids=TOO_DEEP.keys())
def test_too_deeply_nested_body_is_a_form_error_and_writes_nothing(
    app, member, member_client, make_category, token_for, body
):
    make_category("general")
    before = counts(app)
    page = member_client.post("/c/general/new", data={"title": "Deep", "body": body})
    assert page.status_code == 422
    assert "nest too deeply" in page.get_data(as_text=True), page.get_data(as_text=True)[-3000:]
    api = member_client.post(
        "/api/v1/threads",
        json={"category": "general", "title": "Deep", "body": body},
        headers=token_for(member),
    )
    assert api.status_code == 422 and api.get_json()["error"]["fields"]["body"]
    assert counts(app) == before


def test_thousand_nested_brackets_post_instead_of_a_500(app, member_client, make_category):
    make_category("general")
    created = member_client.post(
        "/c/general/new", data={"title": "Brackets", "body": "[" * 1000 + "a" + "]" * 1000}
    )
    assert created.status_code == 302
    page = member_client.get(created.headers["Location"]).get_data(as_text=True)
    assert "[[[[[[[[[[a]]]]]]]]]]" in page


def test_too_deep_edit_is_refused_and_keeps_the_old_text(app, member, member_client, make_thread):
    thread_id = make_thread(member, body="the original text")
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.thread_id == thread_id))
    edit = member_client.post(f"/p/{post_id}/edit", data={"body": TOO_DEEP["lists 1000 deep"]})
    assert edit.status_code == 422
    with app.app_context():
        assert db.session.get(Post, post_id).body == "the original text"


def test_preview_refuses_bodies_longer_than_a_post_may_be(app, member_client):
    app.config["POST_MAX_LENGTH"] = 100
    response = member_client.post("/preview", data={"body": "x" * 101})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "too_long"
    assert member_client.post("/preview", data={"body": "x" * 100}).status_code == 200


def test_preview_of_a_too_deep_body_says_so(member_client):
    response = member_client.post("/preview", data={"body": TOO_DEEP["quotes 1000 deep"]})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "too_deep"


@pytest.mark.parametrize(
    "config_overrides", [{"RATELIMIT_ENABLED": True, "PREVIEW_LIMIT": "3/minute"}]
)
def test_preview_is_rate_limited_per_member(app, member_client, make_user):
    for _ in range(3):
        assert member_client.post("/preview", data={"body": "**hi**"}).status_code == 200
    refused = member_client.post("/preview", data={"body": "**hi**"})
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    from tests.conftest import login

    other = app.test_client()
    login(other, make_user("other"))
    assert other.post("/preview", data={"body": "**hi**"}).status_code == 200
