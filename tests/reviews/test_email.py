"""The nudge by email, end to end through the project's one notification-email path
(campaigns' ``notification_created`` receiver, Flask-Mailman's locmem outbox under
TESTING): completing an order mails the invitation once, its link opens the composer;
the reminder is mailed once; a member who chose "off" for review emails gets none."""

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from forum.campaigns import service as campaigns
from forum.campaigns.tasks import send_notification_emails
from forum.clock import now
from forum.extensions import db
from forum.notifications.models import Notification
from forum.reviews import service
from tests.conftest import app_context, login

from .conftest import ADDRESS, write


def outbox(app) -> list:
    return getattr(app.extensions["mailman"], "outbox", [])


def verify(app, user, **settings):
    with app_context(app):
        row = campaigns.contact(user.id)
        row.email_verified_at = now()
        for name, value in settings.items():
            setattr(row, name, value)
        db.session.commit()


def review_mail(app, user):
    address = f"{user.username}@example.com"
    return [m for m in outbox(app) if m.to == [address] and "Review your purchase" in m.body]


def test_completing_an_order_mails_the_invitation_once_with_a_working_link(
    app, make_user, product, buy
):
    buyer = make_user("bea")
    verify(app, buyer)
    order_id = buy(buyer, product)  # pay, ship, complete: the completion commits the invite
    (letter,) = review_mail(app, buyer)
    assert "Trail Kettle" in letter.subject and "20 points" in letter.body
    assert letter.extra_headers["List-Unsubscribe"].startswith("<http")
    # The sweep behind "at once" and a second completion signal send nothing more.
    assert send_notification_emails.delay().get() == 0
    with app.app_context(), app.test_request_context("/"):
        from forum.shop_embed.models import Order

        assert service.invite(db.session.get(Order, order_id)) is False
        db.session.commit()
    assert len(review_mail(app, buyer)) == 1
    # The link opens the notification: its page POSTs (a GET never writes), which marks
    # it read and lands on the review composer.
    link = re.search(r"https?://[^/\s]+(/notifications/\d+)", letter.body).group(1)
    client = app.test_client()
    login(client, buyer)
    assert f'action="{link}"' in client.get(link).get_data(as_text=True)
    opened = client.post(link)
    assert opened.status_code == 302
    assert opened.headers["Location"] == f"/reviews/write?order_id={order_id}"
    page = client.get(opened.headers["Location"])
    assert page.status_code == 200
    assert "Trail Kettle" in page.get_data(as_text=True)
    assert "You will earn <strong>20 points</strong>" in page.get_data(as_text=True)
    with app.app_context():
        invite = db.session.scalar(
            select(Notification).where(
                Notification.user_id == buyer.id, Notification.kind == "review_invite"
            )
        )
        assert invite.read_at is not None
    # Someone else following the link gets nothing of the buyer's.
    stranger = app.test_client()
    login(stranger, make_user("stranger"))
    assert stranger.get(link).status_code == 404


def test_the_reminder_is_mailed_once_and_never_after_a_review(app, make_user, product, buy):
    lazy, keen = make_user("lazy"), make_user("keen")
    verify(app, lazy)
    verify(app, keen)
    buy(lazy, product)
    keen_order = buy(keen, product, address={**ADDRESS, "line1": "5 Elm"})
    write(app, keen, product, order_id=keen_order)
    with (
        time_machine.travel(now() + timedelta(days=4), tick=False),
        app.app_context(),
        app.test_request_context("/"),
    ):
        assert service.send_reminders() == 1
        assert service.send_reminders() == 0
    reminders = [m for m in review_mail(app, lazy) if "Reminder" in m.body]
    assert len(reminders) == 1 and len(review_mail(app, lazy)) == 2
    assert [m for m in review_mail(app, keen) if "Reminder" in m.body] == []


def test_no_invitation_email_when_review_emails_are_off_or_unverified(app, make_user, product, buy):
    off, unverified = make_user("quiet"), make_user("unverified")
    verify(app, off, notification_prefs={"review": "off"})
    buy(off, product)
    buy(unverified, product, address={**ADDRESS, "line1": "9 Oak"})
    assert review_mail(app, off) == [] and review_mail(app, unverified) == []
    with app.app_context():  # the bell still has them
        kinds = db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "review_invite")
        ).all()
    assert sorted(kinds) == sorted([off.id, unverified.id])
