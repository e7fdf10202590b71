"""Drafts kept on the server while composing: per member and thread, and per category
for a new thread; only ever their owner's; gone once posted, and an autosave that was
still in flight when the member posted does not bring them back."""

import re
from datetime import timedelta

from forum.extensions import db
from forum.social.models import Draft


def draft_rows(app) -> int:
    """Drafts holding text (posting leaves a blank row marking when, which is no draft)."""
    with app.app_context():
        return db.session.scalar(
            db.select(db.func.count())
            .select_from(Draft)
            .where(db.or_(Draft.body != "", Draft.title != ""))
        )


def opened_at(page: str) -> str:
    """The composer's opening time, as the page hands it to the autosave script."""
    found = re.search(r'data-draft-opened="([^"]+)"', page)
    assert found, "the composer carries no opening time"
    return found.group(1).replace("&#43;", "+")


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


def test_a_late_autosave_after_posting_does_not_bring_the_draft_back(
    app, make_user, make_thread, api_for
):
    alice = make_user("alice")
    thread_id = make_thread(alice)
    a = api_for(alice)
    url = f"/api/v1/drafts/threads/{thread_id}"
    opened = opened_at(a.client.get(f"/t/{thread_id}").get_data(as_text=True))
    assert a.put(url, json={"body": "Half", "opened_at": opened}).status_code == 200
    a.client.post(f"/t/{thread_id}/reply", data={"body": "Half a thought, posted"})
    assert draft_rows(app) == 0

    # the save sent just before the post reaches the server after it
    late = a.put(url, json={"body": "Half a thought, post", "opened_at": opened})
    assert late.status_code == 409 and late.json["error"]["code"] == "draft_posted"
    assert draft_rows(app) == 0 and a.get(url).status_code == 404
    page = a.client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert 'data-draft-body=""' in page

    # the page the member lands on after posting opens a composer that saves again
    fresh = a.put(url, json={"body": "And another thing", "opened_at": opened_at(page)})
    assert fresh.status_code == 200 and a.get(url).json["body"] == "And another thing"


def test_a_late_autosave_of_a_new_thread_is_refused_once_it_is_posted(
    app, make_user, make_category, api_for
):
    alice = make_user("alice")
    make_category("coffee")
    a = api_for(alice)
    url = "/api/v1/drafts/categories/coffee"
    opened = opened_at(a.client.get("/c/coffee/new").get_data(as_text=True))
    posted = a.client.post("/c/coffee/new", data={"title": "Which grinder?", "body": "Two picks"})
    assert posted.status_code == 302
    late = a.put(url, json={"title": "Which grinder?", "body": "Two", "opened_at": opened})
    assert late.status_code == 409 and draft_rows(app) == 0
    assert a.get("/api/v1/drafts").json["items"] == []


def test_a_save_opened_before_the_first_draft_row_still_meets_the_post(
    app, make_user, make_thread, api_for
):
    """No draft was ever saved (the first autosave is the one in flight): the post still
    leaves its mark, so the late first save is refused too."""
    alice = make_user("alice")
    thread_id = make_thread(alice)
    a = api_for(alice)
    opened = opened_at(a.client.get(f"/t/{thread_id}").get_data(as_text=True))
    a.client.post(f"/t/{thread_id}/reply", data={"body": "Straight to the point"})
    late = a.put(f"/api/v1/drafts/threads/{thread_id}", json={"body": "S", "opened_at": opened})
    assert late.status_code == 409 and draft_rows(app) == 0


def test_opened_at_must_say_its_time_zone_and_saves_without_it_still_work(
    app, make_user, make_thread, api_for
):
    alice = make_user("alice")
    thread_id = make_thread(alice)
    a = api_for(alice)
    url = f"/api/v1/drafts/threads/{thread_id}"
    naive = a.put(url, json={"body": "x", "opened_at": "2026-01-01T10:00:00"})
    assert naive.status_code == 422 and "opened_at" in naive.json["error"]["fields"]
    assert a.put(url, json={"body": "x", "opened_at": "soon"}).status_code == 422
    assert draft_rows(app) == 0
    a.client.post(f"/t/{thread_id}/reply", data={"body": "Posted"})
    assert a.put(url, json={"body": "an API client's draft"}).status_code == 200  # no opened_at


def test_discarding_after_posting_keeps_the_mark_and_old_marks_are_pruned(
    app, make_user, make_thread, api_for
):
    from forum import clock

    alice, bob = make_user("alice"), make_user("bob")
    first, second = make_thread(bob), make_thread(bob)
    a = api_for(alice)
    opened = opened_at(a.client.get(f"/t/{first}").get_data(as_text=True))
    a.client.post(f"/t/{first}/reply", data={"body": "Posted"})
    a.put(f"/api/v1/drafts/threads/{first}", json={"body": "via the API"})
    assert a.delete(f"/api/v1/drafts/threads/{first}").status_code == 204
    late = a.put(f"/api/v1/drafts/threads/{first}", json={"body": "late", "opened_at": opened})
    assert late.status_code == 409  # discarding did not lift the mark

    with app.app_context():
        marks = db.session.scalars(db.select(Draft.place).where(Draft.user_id == alice.id)).all()
    assert marks == [f"thread:{first}"]
    with clock.replaying(clock.now() + timedelta(days=2)):
        a.client.post(f"/t/{second}/reply", data={"body": "Two days on"})
    with app.app_context():
        places = db.session.scalars(db.select(Draft.place).where(Draft.user_id == alice.id)).all()
    assert places == [f"thread:{second}"]  # the day-old mark went, the new one stays
