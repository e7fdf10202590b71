"""Every moderator action on someone else's item needs a reason, on every path: without
one it is refused (422 on ``reason``) and nothing changes; with one the audit entry
links the item and the person acted on."""

from sqlalchemy import select

from forum.board.models import Post
from forum.extensions import db
from forum.moderation.models import AuditEntry
from tests.conftest import app_context, login

from .helpers import count, first_post_id


def _reply(client, token, thread_id, body="a reply to delete"):
    response = client.post(f"/api/v1/threads/{thread_id}/posts", json={"body": body}, headers=token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _deleted(app, post_id) -> bool:
    with app_context(app):
        return db.session.scalar(select(Post.deleted_at).where(Post.id == post_id)) is not None


def test_a_moderator_deleting_a_post_through_the_api_gives_a_reason(
    app, client, make_user, make_thread, token_for
):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    thread_id = make_thread(author)
    post_id = _reply(client, token_for(author), thread_id)
    for body in (None, {}, {"reason": "   "}):
        refused = client.delete(f"/api/v1/posts/{post_id}", json=body, headers=token_for(mod))
        assert refused.status_code == 422
        assert "reason" in refused.get_json()["error"]["fields"]
    assert not _deleted(app, post_id) and count(app, AuditEntry) == 0

    done = client.delete(
        f"/api/v1/posts/{post_id}", json={"reason": "Off-topic advert"}, headers=token_for(mod)
    )
    assert done.status_code == 204 and _deleted(app, post_id)
    with app_context(app):
        (entry,) = db.session.scalars(select(AuditEntry)).all()
        assert (entry.action, entry.target_type, entry.target_id) == (
            "post.delete",
            "post",
            post_id,
        )
        assert (entry.actor_id, entry.subject_id) == (mod.id, author.id)
        assert entry.reason == "Off-topic advert"
        assert entry.params["thread_id"] == thread_id
    browser = app.test_client()
    login(browser, mod)
    page = browser.get("/mod/audit").get_data(as_text=True)
    with app.test_request_context("/"):
        from flask import url_for

        item = url_for("board.goto_post", post_id=post_id)
        author_page = url_for("moderation.admin_user", username="author")
    assert f'href="{item}"' in page and f'href="{author_page}"' in page
    # A moderator's click goes to the member's admin page; hovering shows their card.
    assert f'href="{author_page}" data-user-card="/u/author/card"' in page


def test_an_author_deletes_their_own_post_without_a_reason(
    app, client, make_user, make_thread, token_for
):
    author = make_user("author")
    post_id = _reply(client, token_for(author), make_thread(author))
    assert client.delete(f"/api/v1/posts/{post_id}", headers=token_for(author)).status_code == 204
    assert _deleted(app, post_id) and count(app, AuditEntry) == 0


def test_the_post_page_asks_a_moderator_for_a_reason_and_refuses_without_one(
    app, client, make_user, make_thread, token_for
):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    thread_id = make_thread(author)
    post_id = _reply(client, token_for(author), thread_id)
    browser = app.test_client()
    login(browser, mod)
    page = browser.get(f"/t/{thread_id}").get_data(as_text=True)
    assert 'aria-label="Reason to delete"' in page
    assert browser.post(f"/p/{post_id}/delete", data={}).status_code == 422
    assert not _deleted(app, post_id) and count(app, AuditEntry) == 0
    assert browser.post(f"/p/{post_id}/delete", data={"reason": "spam"}).status_code == 302
    assert _deleted(app, post_id)
    with app_context(app):
        assert db.session.scalar(select(AuditEntry.reason)) == "spam"


def test_deleting_a_thread_by_its_first_post_needs_a_reason_too(
    app, client, make_user, make_thread, token_for
):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    thread_id = make_thread(author)
    first = first_post_id(app, thread_id)
    assert client.delete(f"/api/v1/posts/{first}", headers=token_for(mod)).status_code == 422
    assert client.get(f"/api/v1/threads/{thread_id}").status_code == 200
