"""Flags over the API: who may flag what, once; refusals write nothing; score, weight,
auto-hide at the threshold and restore when a moderator disagrees."""

from sqlalchemy import select

from forum.extensions import db
from forum.moderation.models import AuditEntry, Flag, ReviewItem
from tests.conftest import app_context

from .helpers import count, first_post_id, flag_body, set_trust


def test_a_member_flags_a_post_once(app, client, make_user, make_thread, token_for):
    author, reader = make_user("author"), make_user("reader")
    post_id = first_post_id(app, make_thread(author))
    made = client.post("/api/v1/flags", json=flag_body(post_id), headers=token_for(reader))
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["target"] == "post" and body["target_id"] == post_id and body["reason"] == "spam"
    assert body["weight"] == 10  # a TL0 member with no history
    again = client.post(
        "/api/v1/flags", json=flag_body(post_id, "off_topic"), headers=token_for(reader)
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_flagged"
    assert count(app, Flag) == 1
    with app_context(app):
        item = db.session.scalar(select(ReviewItem))
        assert (item.target_type, item.target_id, item.score, item.flag_count) == (
            "post",
            post_id,
            10,
            1,
        )
        assert item.author_id == author.id


def test_refused_flags_write_nothing(app, client, make_user, make_thread, token_for):
    author, reader, mod = (
        make_user("author"),
        make_user("reader"),
        make_user("mod", role="moderator"),
    )
    post_id = first_post_id(app, make_thread(author))
    headers = token_for(reader)
    cases = [
        (flag_body(post_id, "rude"), 422),
        (flag_body(post_id, "other"), 422),  # "something else" needs a note
        (flag_body(post_id, note="x" * 501), 422),
        ({**flag_body(post_id), "target": "thread"}, 422),
        ({**flag_body(post_id), "target_id": 2**40}, 422),
        ({**flag_body(post_id), "target_id": "1"}, 422),
        (flag_body(999_999), 404),
        ({"target": "review", "target_id": 5, "reason": "spam"}, 404),
        ({"target": "message", "target_id": 5, "reason": "spam"}, 404),
        ({"target": "user", "target_id": 999_999, "reason": "spam"}, 404),
        ({**flag_body(post_id), "extra": 1}, 422),
    ]
    for body, status in cases:
        response = client.post("/api/v1/flags", json=body, headers=headers)
        assert response.status_code == status, (body, response.get_json())
    own = client.post("/api/v1/flags", json=flag_body(post_id), headers=token_for(author))
    assert own.status_code == 403 and own.get_json()["error"]["code"] == "own_content"
    assert client.post("/api/v1/flags", json=flag_body(post_id)).status_code == 401
    # A post hidden by a moderator is its author's alone: others get 404.
    with app_context(app), app.test_request_context("/"):
        from forum.accounts.models import User
        from forum.board import service as board

        board.set_hidden(
            db.session.get(User, mod.id),
            board.visible_post(post_id, db.session.get(User, mod.id)),
            True,
            "spam",
        )
        db.session.commit()
    assert client.post("/api/v1/flags", json=flag_body(post_id), headers=headers).status_code == 404
    assert count(app, Flag) == 0 and count(app, ReviewItem) == 0


def test_profiles_can_be_flagged_not_ones_own(app, client, make_user, token_for):
    spammer, reader = make_user("spammer"), make_user("reader")
    body = {"target": "user", "target_id": spammer.id, "reason": "spam", "note": "bio is an ad"}
    assert client.post("/api/v1/flags", json=body, headers=token_for(reader)).status_code == 201
    own = {"target": "user", "target_id": reader.id, "reason": "spam"}
    assert client.post("/api/v1/flags", json=own, headers=token_for(reader)).status_code == 403


def _flaggers(make_user, n, prefix="flagger"):
    return [make_user(f"{prefix}{i}") for i in range(n)]


def _hidden_to(app, client, post_id, who) -> bool:
    return client.get(f"/p/{post_id}").status_code == 404


def test_score_auto_hides_once_past_the_threshold_and_disagree_restores(
    app, make_user, make_thread, token_for
):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    post_id = first_post_id(app, make_thread(author, body="Buy cheap watches"))
    flaggers = _flaggers(make_user, 5)
    client = app.test_client()
    for flagger in flaggers[:3]:  # 3 x 10 < 40
        assert (
            client.post(
                "/api/v1/flags", json=flag_body(post_id), headers=token_for(flagger)
            ).status_code
            == 201
        )
    assert client.get(f"/p/{post_id}").status_code != 404
    assert (
        client.post(
            "/api/v1/flags", json=flag_body(post_id), headers=token_for(flaggers[3])
        ).status_code
        == 201
    )
    assert client.get(f"/p/{post_id}").status_code == 404  # 40: hidden
    # Members no longer see it, so cannot flag it; a moderator still can: no second hide.
    assert (
        client.post(
            "/api/v1/flags", json=flag_body(post_id), headers=token_for(flaggers[4])
        ).status_code
        == 404
    )
    second_mod = make_user("mod2", role="moderator")
    assert (
        client.post(
            "/api/v1/flags", json=flag_body(post_id), headers=token_for(second_mod)
        ).status_code
        == 201
    )
    with app_context(app):
        item = db.session.scalar(select(ReviewItem))
        assert (item.score, item.flag_count, item.auto_hidden, item.status) == (
            90,
            5,
            True,
            "pending",
        )
        hides = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "post.auto_hide")
        ).all()
        assert len(hides) == 1 and hides[0].actor_id is None and hides[0].subject_id == author.id
        item_id = item.id
    decided = client.post(
        f"/api/v1/moderation/queue/{item_id}/decide",
        json={"action": "disagree", "reason": "a real watch review"},
        headers=token_for(mod),
    )
    assert decided.status_code == 200, decided.get_json()
    assert decided.get_json()["status"] == "disagreed"
    assert client.get(f"/p/{post_id}").status_code != 404  # restored
    with app_context(app):
        assert set(db.session.scalars(select(Flag.outcome))) == {"disagreed"}
    # Flaggers moderators disagreed with weigh less next time: 10 x 2 x 1/3 -> 7.
    other = first_post_id(app, make_thread(author, title="Second thread"))
    again = client.post("/api/v1/flags", json=flag_body(other), headers=token_for(flaggers[0]))
    assert again.get_json()["weight"] == 7


def test_trust_raises_a_flag_weight(app, client, make_user, make_thread, token_for):
    author, regular = make_user("author"), make_user("regular")
    set_trust(app, regular.id, 3)
    post_id = first_post_id(app, make_thread(author))
    made = client.post("/api/v1/flags", json=flag_body(post_id), headers=token_for(regular))
    assert made.get_json()["weight"] == 40  # 10 x (1 + 3): one regular is enough to hide
    assert client.get(f"/p/{post_id}").status_code == 404


def test_a_flag_after_a_decision_reopens_the_item(app, client, make_user, make_thread, token_for):
    author, mod = make_user("author"), make_user("mod", role="moderator")
    first, second = make_user("first"), make_user("second")
    post_id = first_post_id(app, make_thread(author))
    item_id = client.post(
        "/api/v1/flags", json=flag_body(post_id), headers=token_for(first)
    ).get_json()["id"]
    with app_context(app):
        item_id = db.session.scalar(select(ReviewItem.id))
    client.post(
        f"/api/v1/moderation/queue/{item_id}/decide",
        json={"action": "ignore"},
        headers=token_for(mod),
    )
    client.post(
        "/api/v1/flags", json=flag_body(post_id, "inappropriate"), headers=token_for(second)
    )
    with app_context(app):
        item = db.session.get(ReviewItem, item_id)
        assert (item.status, item.score, item.flag_count) == ("pending", 10, 1)
