"""Flags on chat messages and products: the owner answers what the flagger may see;
a moderator agreeing takes a message down and its author is told why."""

from sqlalchemy import select

from forum.chat.models import ChatMessage
from forum.extensions import db
from forum.moderation.models import ReviewItem
from forum.notifications.models import Notification
from tests.conftest import app_context


def test_a_chat_message_is_flagged_and_taken_down(app, client, make_user, token_for):
    mod, author, reader = (
        make_user("mod", role="moderator"),
        make_user("author"),
        make_user("reader"),
    )
    mod_h = token_for(mod)
    assert (
        client.post(
            "/api/v1/chat/rooms", json={"slug": "lobby", "name": "Lobby"}, headers=mod_h
        ).status_code
        == 201
    )
    sent = client.post(
        "/api/v1/chat/rooms/lobby/messages",
        json={"body": "buy followers"},
        headers=token_for(author),
    )
    message_id = sent.get_json()["id"]
    flag = {"target": "message", "target_id": message_id, "reason": "spam"}
    assert client.post("/api/v1/flags", json=flag, headers=token_for(reader)).status_code == 201
    assert client.post("/api/v1/flags", json=flag, headers=token_for(author)).status_code == 403
    item = client.get("/api/v1/moderation/queue", headers=mod_h).get_json()["items"][0]
    assert (
        item["target"] == "message"
        and "buy followers" in item["body_html"]
        and "#lobby" in item["context"]
    )
    done = client.post(
        f"/api/v1/moderation/queue/{item['id']}/decide",
        json={"action": "agree", "reason": "No ads in chat"},
        headers=mod_h,
    )
    assert done.status_code == 200
    with app_context(app):
        assert db.session.get(ChatMessage, message_id).deleted_at is not None
        note = db.session.scalar(select(Notification).where(Notification.user_id == author.id))
        assert "No ads in chat" in note.text


def test_products_are_flagged_against_their_merchant(
    app, client, make_user, shop, make_product, token_for
):
    product_id = make_product(shop, name="Fake sneakers")
    hidden_id = make_product(shop, name="Draft", active=False)
    reader = token_for(make_user("reader"))
    flag = {
        "target": "product",
        "target_id": product_id,
        "reason": "inappropriate",
        "note": "counterfeit",
    }
    assert client.post("/api/v1/flags", json=flag, headers=reader).status_code == 201
    assert (
        client.post(
            "/api/v1/flags", json={**flag, "target_id": hidden_id}, headers=reader
        ).status_code
        == 404
    )
    assert client.post("/api/v1/flags", json=flag, headers=shop.headers).status_code == 403
    with app_context(app):
        item = db.session.scalar(select(ReviewItem))
        assert (item.target_type, item.author_id) == ("product", shop.user.id)
