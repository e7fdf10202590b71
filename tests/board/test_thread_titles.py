"""Thread title edits: the author, or a moderator with a reason; the old title is kept,
search and anonymous readers' cached lists follow; others are refused, nothing written."""

import pytest
from sqlalchemy import func, select

from forum.board.models import Thread, ThreadTitleRevision
from forum.extensions import db
from forum.moderation.models import AuditEntry
from tests.conftest import app_context, login


def titles(app, thread_id):
    with app_context(app):
        thread = db.session.get(Thread, thread_id)
        revisions = db.session.scalars(
            select(ThreadTitleRevision.title)
            .where(ThreadTitleRevision.thread_id == thread_id)
            .order_by(ThreadTitleRevision.id)
        ).all()
        return thread.title, list(revisions)


def search_ids(client, q):
    return [
        (item["type"], item["id"])
        for item in client.get(f"/api/v1/search?q={q}").get_json()["items"]
    ]


def test_the_author_renames_and_search_and_lists_follow(app, make_user, make_thread):
    alice = make_user("alice")
    thread_id = make_thread(alice, title="Router question", body="Which one to buy")
    anonymous = app.test_client()
    assert "Router question" in anonymous.get("/").get_data(as_text=True)  # cached now
    client = app.test_client()
    login(client, alice)
    assert "data-edit-title" in client.get(f"/t/{thread_id}").get_data(as_text=True)
    saved = client.post(f"/t/{thread_id}/title", data={"title": "  Is a mesh router worth it?  "})
    assert saved.status_code == 302
    assert titles(app, thread_id) == ("Is a mesh router worth it?", ["Router question"])
    assert "Is a mesh router worth it?" in anonymous.get("/").get_data(as_text=True)
    assert ("thread", thread_id) in search_ids(anonymous, "mesh")
    page = client.get(f"/t/{thread_id}/title").get_data(as_text=True)
    assert "Router question" in page  # the earlier title is shown
    with app_context(app):  # the author's own rename is no moderator action
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_api_renames_and_refuses_another_member(app, make_user, make_thread, token_for):
    alice, bob = make_user("alice"), make_user("bob")
    thread_id = make_thread(alice, title="Router question")
    client = app.test_client()
    refused = client.patch(
        f"/api/v1/threads/{thread_id}", json={"title": "Bob was here"}, headers=token_for(bob)
    )
    assert refused.status_code == 403
    assert client.patch(f"/api/v1/threads/{thread_id}", json={"title": "Nope"}).status_code == 401
    answer = client.patch(
        f"/api/v1/threads/{thread_id}", json={"title": "Mesh routers"}, headers=token_for(alice)
    )
    assert answer.status_code == 200 and answer.get_json()["title"] == "Mesh routers"
    assert titles(app, thread_id) == ("Mesh routers", ["Router question"])
    bob_client = app.test_client()
    login(bob_client, bob)
    assert bob_client.get(f"/t/{thread_id}/title").status_code == 403
    assert bob_client.post(f"/t/{thread_id}/title", data={"title": "Mine"}).status_code == 403
    assert "data-edit-title" not in bob_client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert titles(app, thread_id) == ("Mesh routers", ["Router question"])


@pytest.mark.parametrize("title", ["", "   ", "ab", "x" * 201, None, 12])
def test_empty_short_long_or_odd_titles_are_refused(app, make_user, make_thread, token_for, title):
    alice = make_user("alice")
    thread_id = make_thread(alice, title="Router question")
    answer = app.test_client().patch(
        f"/api/v1/threads/{thread_id}", json={"title": title}, headers=token_for(alice)
    )
    assert answer.status_code in (400, 422) and "title" in answer.get_json()["error"]["fields"]
    assert titles(app, thread_id) == ("Router question", [])


def test_a_moderator_renames_with_a_reason_and_it_is_audited(
    app, make_user, make_thread, token_for
):
    alice, mod = make_user("alice"), make_user("mod", role="moderator")
    thread_id = make_thread(alice, title="BUY CHEAP WATCHES")
    client = app.test_client()
    no_reason = client.patch(
        f"/api/v1/threads/{thread_id}", json={"title": "Watches"}, headers=token_for(mod)
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    assert titles(app, thread_id) == ("BUY CHEAP WATCHES", [])
    done = client.patch(
        f"/api/v1/threads/{thread_id}",
        json={"title": "Watches", "reason": "No shouting in titles"},
        headers=token_for(mod),
    )
    assert done.status_code == 200
    assert titles(app, thread_id) == ("Watches", ["BUY CHEAP WATCHES"])
    with app_context(app):
        entry = db.session.scalars(select(AuditEntry)).one()
        assert entry.action == "thread.rename" and entry.reason == "No shouting in titles"


def test_a_locked_thread_keeps_its_title_for_the_author(app, make_user, make_thread, token_for):
    alice = make_user("alice")
    thread_id = make_thread(alice, title="Router question")
    with app_context(app):
        db.session.get(Thread, thread_id).locked = True
        db.session.commit()
    answer = app.test_client().patch(
        f"/api/v1/threads/{thread_id}", json={"title": "Mesh routers"}, headers=token_for(alice)
    )
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "thread_locked"
