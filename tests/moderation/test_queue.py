"""The review queue: moderators only; the item with its flags, score and each
flagger's accuracy; claim; agree (reason required, hidden, the author told why),
disagree, ignore; a second decision is a 409 and changes nothing."""

from sqlalchemy import select

from forum.extensions import db
from forum.moderation.models import AuditEntry, ReviewItem
from forum.notifications.models import Notification
from tests.conftest import app_context, login

from .helpers import count, first_post_id, flag_body


def _flagged(app, client, make_user, make_thread, token_for, n=1):
    author = make_user("author")
    post_id = first_post_id(app, make_thread(author, body="Visit my shop spam.example"))
    for i in range(n):
        flagger = make_user(f"flagger{i}")
        made = client.post(
            "/api/v1/flags", json=flag_body(post_id, note="ad"), headers=token_for(flagger)
        )
        assert made.status_code == 201
    with app_context(app):
        item_id = db.session.scalar(select(ReviewItem.id))
    return author, post_id, item_id


def test_only_moderators_see_and_decide(app, client, make_user, make_thread, token_for):
    author, post_id, item_id = _flagged(app, client, make_user, make_thread, token_for)
    member_ref = make_user("member")
    member = token_for(member_ref)
    assert client.get("/api/v1/moderation/queue").status_code == 401
    assert client.get("/api/v1/moderation/queue", headers=member).status_code == 403
    assert client.get("/api/v1/moderation/queue", headers=token_for(author)).status_code == 403
    decide = f"/api/v1/moderation/queue/{item_id}/decide"
    assert (
        client.post(decide, json={"action": "agree", "reason": "x"}, headers=member).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/moderation/queue/{item_id}/claim", headers=member).status_code == 403
    )
    assert (
        client.post(
            "/api/v1/admin/users/author/silence", json={"minutes": 5, "reason": "x"}, headers=member
        ).status_code
        == 403
    )
    page = app.test_client()
    login(page, member_ref)
    assert page.get("/mod/queue").status_code == 403
    assert (
        page.post(
            f"/mod/queue/{item_id}/decide", data={"action": "agree", "reason": "x"}
        ).status_code
        == 403
    )
    assert (
        page.get("/admin/users").status_code == 403
        and page.get("/admin/settings").status_code == 403
    )
    with app_context(app):
        assert db.session.get(ReviewItem, item_id).status == "pending"
    mod = token_for(make_user("mod", role="moderator"))
    missing = client.post(
        "/api/v1/moderation/queue/99999/decide", json={"action": "ignore"}, headers=mod
    )
    assert missing.status_code == 404


def test_the_queue_shows_flags_score_and_accuracy(app, client, make_user, make_thread, token_for):
    author, post_id, item_id = _flagged(app, client, make_user, make_thread, token_for, n=2)
    moderator = make_user("mod", role="moderator")
    mod = token_for(moderator)
    page = client.get("/api/v1/moderation/queue", headers=mod)
    assert page.status_code == 200, page.get_json()
    [item] = page.get_json()["items"]
    assert item["id"] == item_id and item["score"] == 20 and item["flag_count"] == 2
    assert item["author"]["username"] == "author" and item["kind"] == "flagged"
    assert "spam.example" in item["body_html"] and item["url"].endswith(f"/p/{post_id}")
    assert {f["reporter"]["username"] for f in item["flags"]} == {"flagger0", "flagger1"}
    assert all(f["reporter_accuracy"] is None and f["note"] == "ad" for f in item["flags"])
    assert page.get_json()["next_cursor"] is None
    page = app.test_client()
    login(page, moderator)
    html = page.get("/mod/queue").get_data(as_text=True)
    assert "spam.example" in html and "flagger0" in html and "no decided flags yet" in html


def test_agree_needs_a_reason_hides_and_tells_the_author(
    app, client, make_user, make_thread, token_for
):
    author, post_id, item_id = _flagged(app, client, make_user, make_thread, token_for)
    mod_user = make_user("mod", role="moderator")
    mod = token_for(mod_user)
    decide = f"/api/v1/moderation/queue/{item_id}/decide"
    for body in (
        {"action": "agree"},
        {"action": "agree", "reason": "   "},
        {"action": "ban", "reason": "x"},
    ):
        refused = client.post(decide, json=body, headers=mod)
        assert refused.status_code == 422, body
    with app_context(app):
        assert db.session.get(ReviewItem, item_id).status == "pending"
    assert client.get(f"/p/{post_id}").status_code != 404
    assert count(app, AuditEntry, AuditEntry.action.like("queue.%")) == 0
    agreed = client.post(
        decide, json={"action": "agree", "reason": "Advertising is not allowed"}, headers=mod
    )
    assert agreed.status_code == 200 and agreed.get_json()["status"] == "agreed"
    assert client.get(f"/p/{post_id}").status_code == 404
    with app_context(app):
        note = db.session.scalar(select(Notification).where(Notification.user_id == author.id))
        assert note.kind == "moderation" and "Advertising is not allowed" in note.text
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "queue.agree"))
        assert (entry.actor_id, entry.subject_id, entry.target_id) == (
            mod_user.id,
            author.id,
            post_id,
        )
        assert entry.reason == "Advertising is not allowed"
    again = client.post(decide, json={"action": "disagree", "reason": "oops"}, headers=mod)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_decided"
    assert client.get(f"/p/{post_id}").status_code == 404
    # The flagger's accuracy now shows in the queue (1 of 1 upheld).
    decided = client.get("/api/v1/moderation/queue?status=agreed", headers=mod).get_json()["items"]
    assert decided[0]["flags"][0]["reporter_accuracy"] == 1.0


def test_a_claim_keeps_other_moderators_off(app, client, make_user, make_thread, token_for):
    author, post_id, item_id = _flagged(app, client, make_user, make_thread, token_for)
    first, second = (
        token_for(make_user("mod1", role="moderator")),
        token_for(make_user("mod2", role="moderator")),
    )
    claimed = client.post(f"/api/v1/moderation/queue/{item_id}/claim", headers=first)
    assert claimed.status_code == 200 and claimed.get_json()["claimed_by"]["username"] == "mod1"
    taken = client.post(f"/api/v1/moderation/queue/{item_id}/claim", headers=second)
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "claimed"
    refused = client.post(
        f"/api/v1/moderation/queue/{item_id}/decide", json={"action": "ignore"}, headers=second
    )
    assert refused.status_code == 409
    done = client.post(
        f"/api/v1/moderation/queue/{item_id}/decide", json={"action": "ignore"}, headers=first
    )
    assert done.status_code == 200 and done.get_json()["status"] == "ignored"
    assert client.get(f"/p/{post_id}").status_code != 404  # ignore leaves it as it was


def test_flags_against_counts_upheld_flags_since(app, client, make_user, make_thread, token_for):
    from datetime import timedelta

    from forum.clock import now
    from forum.moderation import service

    author, post_id, item_id = _flagged(app, client, make_user, make_thread, token_for, n=2)
    mod = token_for(make_user("mod", role="moderator"))
    with app_context(app):
        assert service.flags_against(author.id, now() - timedelta(days=1)) == 0
    client.post(
        f"/api/v1/moderation/queue/{item_id}/decide",
        json={"action": "agree", "reason": "ad"},
        headers=mod,
    )
    with app_context(app):
        assert service.flags_against(author.id, now() - timedelta(days=1)) == 2
        assert service.flags_against(author.id, now() + timedelta(minutes=1)) == 0
