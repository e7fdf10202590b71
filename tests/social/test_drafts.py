"""Drafts kept on the server while composing: per member and thread, and per category
for a new thread; only ever their owner's; gone once posted."""

from forum.extensions import db
from forum.social.models import Draft


def draft_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Draft))


def test_a_reply_draft_is_saved_restored_into_the_page_and_deleted_on_posting(
    app, make_user, make_thread, api_for
):
    alice = make_user("alice")
    thread_id = make_thread(alice)
    a = api_for(alice)
    saved = a.put(f"/api/v1/drafts/threads/{thread_id}", json={"body": "Half a thought"})
    assert saved.status_code == 200 and saved.json["body"] == "Half a thought"
    a.put(f"/api/v1/drafts/threads/{thread_id}", json={"body": "Half a thought, finished"})
    assert draft_rows(app) == 1  # one per member and thread: saved over
    assert a.get(f"/api/v1/drafts/threads/{thread_id}").json["body"] == "Half a thought, finished"
    page = a.client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert 'data-draft-body="Half a thought, finished"' in page
    a.client.post(f"/t/{thread_id}/reply", data={"body": "Half a thought, finished"})
    assert draft_rows(app) == 0
    assert a.get(f"/api/v1/drafts/threads/{thread_id}").status_code == 404


def test_a_new_thread_draft_keeps_its_title_and_goes_when_the_thread_is_posted(
    app, make_user, make_category, api_for
):
    alice = make_user("alice")
    make_category("coffee")
    a = api_for(alice)
    body = {"title": "Which grinder?", "body": "I have been looking at"}
    assert a.put("/api/v1/drafts/categories/coffee", json=body).status_code == 200
    page = a.client.get("/c/coffee/new").get_data(as_text=True)
    assert 'data-draft-title="Which grinder?"' in page
    assert [d["title"] for d in a.get("/api/v1/drafts").json["items"]] == ["Which grinder?"]
    posted = a.client.post(
        "/c/coffee/new", data={"title": "Which grinder?", "body": "I have been looking at two"}
    )
    assert posted.status_code == 302 and draft_rows(app) == 0


def test_another_member_cannot_read_or_discard_your_draft(app, make_user, make_thread, api_for):
    alice, bob = make_user("alice"), make_user("bob")
    thread_id = make_thread(alice)
    api_for(alice).put(f"/api/v1/drafts/threads/{thread_id}", json={"body": "secret plan"})
    b = api_for(bob)
    assert b.get(f"/api/v1/drafts/threads/{thread_id}").status_code == 404
    assert b.get("/api/v1/drafts").json["items"] == []
    assert "secret plan" not in b.client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert b.delete(f"/api/v1/drafts/threads/{thread_id}").status_code == 204  # bob's own: none
    assert draft_rows(app) == 1


def test_bad_drafts_are_refused_and_nothing_is_written(
    app, make_user, make_thread, api_for, client
):
    alice = make_user("alice")
    thread_id = make_thread(alice)
    a = api_for(alice)
    too_long = "x" * (app.config["POST_MAX_LENGTH"] + 1)
    refused = a.put(f"/api/v1/drafts/threads/{thread_id}", json={"body": too_long})
    assert refused.status_code == 422 and "body" in refused.json["error"]["fields"]
    assert a.put(f"/api/v1/drafts/threads/{thread_id}", json={"body": 5}).status_code == 422
    assert a.put("/api/v1/drafts/threads/999999", json={"body": "x"}).status_code == 404
    assert a.put("/api/v1/drafts/categories/nowhere", json={"body": "x"}).status_code == 404
    assert client.put(f"/api/v1/drafts/threads/{thread_id}", json={"body": "x"}).status_code == 401
    assert draft_rows(app) == 0
    a.put(f"/api/v1/drafts/threads/{thread_id}", json={"body": "kept"})
    assert a.put(f"/api/v1/drafts/threads/{thread_id}", json={"body": "  "}).status_code == 200
    assert draft_rows(app) == 0  # emptied: deleted


def test_a_draft_in_a_category_the_member_cannot_read_is_refused(
    app, make_user, make_category, api_for
):
    from forum.board.models import Category

    alice = make_user("alice")
    make_category("staff")
    with app.app_context():
        category = db.session.scalar(db.select(Category).where(Category.slug == "staff"))
        category.read_roles = "moderator"
        db.session.commit()
    answer = api_for(alice).put("/api/v1/drafts/categories/staff", json={"body": "x"})
    assert answer.status_code == 404 and draft_rows(app) == 0
