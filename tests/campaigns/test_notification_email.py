"""Notification email: a reply or mention is emailed (once) to a verified member who
wants it, never when they chose "off" or their digest; every such email has a
one-click unsubscribe for that type; the digest gathers what was not emailed."""

from datetime import timedelta

import time_machine
from sqlalchemy import select

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Thread
from forum.campaigns import service
from forum.campaigns.tasks import send_digests, send_notification_emails
from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context

from .conftest import outbox


def reply_to(app, author, thread_id, body="Nice one!"):
    with app_context(app), app.test_request_context("/"):
        board.reply(db.session.get(User, author.id), db.session.get(Thread, thread_id), body)
        db.session.commit()
    send_notification_emails.delay()  # the sweep (every JOBS_INTERVAL_SECONDS)


def test_a_reply_is_emailed_once_with_a_per_type_unsubscribe(
    app, client, make_user, make_thread, verify
):
    op, fan = make_user("opener"), make_user("fan")
    verify(op)
    thread_id = make_thread(op, title="Roasts")
    reply_to(app, fan, thread_id)
    (letter,) = outbox(app)
    assert letter.to == ["opener@example.com"] and "fan" in letter.subject
    url = letter.extra_headers["List-Unsubscribe"].strip("<>").replace("http://localhost", "")
    assert letter.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with app.app_context():
        assert service.settings_of(db.session.get(User, op.id))["notifications"]["reply"] == "off"
    reply_to(app, fan, thread_id, "Another")
    assert send_notification_emails.delay().get() == 0  # each emailed once at most
    assert len(outbox(app)) == 1  # replies are off now; nothing more


def test_unverified_or_off_members_get_no_notification_email(app, make_user, make_thread, verify):
    quiet, fan = make_user("quiet"), make_user("fan")
    thread_id = make_thread(quiet, title="Unverified")
    reply_to(app, fan, thread_id)
    assert outbox(app) == []  # address not verified
    verify(quiet, notification_prefs={"reply": "digest"}, digest="daily")
    reply_to(app, fan, thread_id, "Second")
    assert outbox(app) == []  # wanted in the digest, not at once
    with time_machine.travel(now() + timedelta(days=1, minutes=1)):
        assert send_digests.delay().get() == 1
        assert send_digests.delay().get() == 0  # not due again yet
    (digest,) = outbox(app)
    # the two replies in one thread are one grouped notification: one line
    assert "What you missed" in digest.subject and digest.body.count("\n- ") == 1


def test_settings_api_sets_notification_preferences(app, client, member, token_for):
    headers = token_for(member)
    answer = client.patch(
        "/api/v1/me/settings",
        json={"notifications": {"mention": "off"}, "digest": "weekly"},
        headers=headers,
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["notifications"]["mention"] == "off" and body["digest"] == "weekly"
    assert (
        client.patch("/api/v1/me/settings", json={"digest": "hourly"}, headers=headers).status_code
        == 422
    )
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.id == member.id))


def _direct_message_notice(app, to, sender) -> int:
    from forum.notifications import service as notifications

    with app_context(app), app.test_request_context("/"):
        item = notifications.notify(
            to.id, "chat_direct", f"{sender.username} wrote to you", "/chat", actor_id=sender.id
        )
        db.session.commit()
        return item.id


def test_a_direct_message_is_emailed_only_while_the_member_is_away(app, make_user, verify):
    from forum.campaigns.tasks import send_notification_email
    from forum.chat import service as chat

    ida, sam = make_user("ida"), make_user("sam")
    verify(ida)
    with app_context(app):  # ida has the chat open (a socket seen just now)
        chat.register_connection("sid-ida", db.session.get(User, ida.id))
        db.session.commit()
    online = _direct_message_notice(app, ida, sam)
    assert outbox(app) == []
    assert send_notification_email.delay(online).get() is False
    with time_machine.travel(now() + timedelta(minutes=5)):  # the socket went quiet: away
        away = _direct_message_notice(app, ida, sam)
    assert [m.to for m in outbox(app)] == [["ida@example.com"]]
    assert "sam wrote to you" in outbox(app)[0].subject
    assert send_notification_email.delay(away).get() is False  # once at most


def test_order_emails_go_to_the_buyer_and_the_merchant(
    app, make_user, verify, make_shop, make_product, token_for
):
    from tests.fixtures.shop import order_body

    shop = make_shop("acme", free_from=None)
    product_id = make_product(shop, "Kettle", price_cents=1250, stock=5)
    buyer = make_user("buyer")
    verify(buyer, shop.user)
    client = app.test_client()
    headers = token_for(buyer)
    placed = client.post("/api/v1/orders", json=order_body((product_id, 1)), headers=headers)
    assert placed.status_code == 201
    order_id = placed.json["id"]
    subjects = sorted((m.to[0], m.subject) for m in outbox(app))
    assert [to for to, _subject in subjects] == [
        f"{shop.user.username}@example.com",
        "buyer@example.com",
    ]
    assert subjects[0][1].startswith(f"New order #{order_id} in ")
    assert subjects[1][1] == f"Your order #{order_id} was placed"
    paid = client.post(
        f"/api/v1/orders/{order_id}/pay", json={"provider": "sandbox"}, headers=headers
    )
    assert paid.status_code == 200
    assert outbox(app)[-1].to == ["buyer@example.com"]
    assert outbox(app)[-1].subject == f"Your order #{order_id} was paid"
    assert all("X-Plaza-Bounce-Tag" in m.extra_headers for m in outbox(app))


def test_a_suppressed_address_gets_no_notification_email(app, make_user, make_thread, verify):
    op, fan = make_user("opener"), make_user("fan")
    verify(op)
    with app_context(app):
        service.suppress("Opener@Example.com", "hard_bounce")
        db.session.commit()
    reply_to(app, fan, make_thread(op, title="Bounced"))
    assert outbox(app) == []
