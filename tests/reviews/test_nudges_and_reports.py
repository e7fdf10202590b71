"""The invitation on completion and its one reminder; experience reports and their approval."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from forum.accounts.models import User
from forum.board.models import Category
from forum.clock import now
from forum.errors import Conflict, Forbidden, ValidationFailed
from forum.extensions import db
from forum.notifications.models import Notification
from forum.reviews import service
from forum.reviews.models import ExperienceReport

from .conftest import item_of, points_of, write

WELCOME = 50


def notes(app, user_id):
    with app.app_context():
        return [
            (n.kind, n.text, n.url)
            for n in db.session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        ]


def test_completion_invites_a_review_with_the_reward_named(app, make_user, product, buy):
    buyer = make_user("bea")
    order_id = buy(buyer, product)
    invites = [n for n in notes(app, buyer.id) if n[0] == "review_invite"]
    assert len(invites) == 1
    kind, text, url = invites[0]
    assert "Trail Kettle" in text and "20 points" in text
    assert url == f"/reviews/write?order_id={order_id}"


def test_one_reminder_after_a_few_days_and_none_after_a_review(app, make_user, product, buy):
    lazy, keen = make_user("lazy"), make_user("keen")
    buy(lazy, product)
    keen_order = buy(
        keen,
        product,
        address={"name": "K", "line1": "5 Elm", "city": "X", "postal_code": "1", "country": "US"},
    )
    write(app, keen, product, order_id=keen_order)
    with app.app_context(), app.test_request_context("/"):
        assert service.send_reminders() == 0  # too early
    later = now() + timedelta(days=4)
    with (
        time_machine.travel(later, tick=False),
        app.app_context(),
        app.test_request_context("/"),
    ):
        assert service.send_reminders() == 1
        assert service.send_reminders() == 0  # once
    reminders = [n for n in notes(app, lazy.id) if n[0] == "review_reminder"]
    assert len(reminders) == 1 and "Reminder" in reminders[0][1]
    assert not [n for n in notes(app, keen.id) if n[0] == "review_reminder"]


def test_the_periodic_task_is_scheduled(app):
    from forum.tasks import beat_schedule

    assert beat_schedule(15)["reviews.send_reminders"]["task"] == "reviews.send_reminders"
    assert "reviews.send_reminders" in app.extensions["celery"].tasks


def post_report(app, user, category_id, item_id, title="Three months with the kettle"):
    with app.app_context(), app.test_request_context("/"):
        report = service.create_report(
            db.session.get(User, user.id),
            db.session.get(Category, category_id),
            order_item_id=item_id,
            title=title,
            body="Long story short: it still boils.",
        )
        db.session.commit()
        return report.id, report.thread_id


def test_a_report_is_tied_to_a_completed_purchase_and_approved_once(
    app, shop, make_user, product, buy, report_category, make_category
):
    author, stranger = make_user("writer"), make_user("stranger")
    item = item_of(app, buy(author, product))
    with app.app_context(), app.test_request_context("/"):
        plain = db.session.get(Category, make_category("general"))
        with pytest.raises(ValidationFailed):
            service.create_report(
                db.session.get(User, author.id), plain, order_item_id=item, title="Hello", body="x"
            )
        with pytest.raises(Forbidden) as foreign:
            service.create_report(
                db.session.get(User, stranger.id),
                db.session.get(Category, report_category),
                order_item_id=item,
                title="Hello",
                body="x",
            )
        assert foreign.value.code == "not_a_buyer"
    pending_item = item_of(app, buy(author, product, status="paid"))
    with app.app_context(), app.test_request_context("/"):
        with pytest.raises(Forbidden) as early:
            service.create_report(
                db.session.get(User, author.id),
                db.session.get(Category, report_category),
                order_item_id=pending_item,
                title="Hello",
                body="x",
            )
        assert early.value.code == "order_not_completed"
    report_id, thread_id = post_report(app, author, report_category, item)
    with pytest.raises(Conflict):
        post_report(app, author, report_category, item)
    # The thread shows "bought this" with the product card.
    page = app.test_client().get(f"/t/{thread_id}").get_data(as_text=True)
    assert "Bought this" in page and 'data-product-card="' in page
    assert points_of(app, author.id)[0] == WELCOME
    with app.app_context(), app.test_request_context("/"):
        report = db.session.get(ExperienceReport, report_id)
        with pytest.raises(Forbidden):
            service.decide_report(db.session.get(User, stranger.id), report, approve=True)
        service.decide_report(db.session.get(User, shop.user.id), report, approve=True)
        with pytest.raises(Conflict):
            service.decide_report(db.session.get(User, shop.user.id), report, approve=True)
        db.session.commit()
    assert points_of(app, author.id)[0] == WELCOME + 100
    product_page = app.test_client().get(f"/shop/p/{product}").get_data(as_text=True)
    assert "Experience reports" in product_page and "Three months with the kettle" in product_page


def test_a_rejected_report_tells_the_author_why_and_earns_nothing(
    app, make_user, product, buy, report_category
):
    from tests.conftest import login

    author, mod = make_user("writer"), make_user("moddy", role="moderator")
    report_id, thread_id = post_report(
        app, author, report_category, item_of(app, buy(author, product))
    )
    with app.app_context(), app.test_request_context("/"):
        report = db.session.get(ExperienceReport, report_id)
        with pytest.raises(ValidationFailed):
            service.decide_report(db.session.get(User, mod.id), report, approve=False)
        service.decide_report(
            db.session.get(User, mod.id), report, approve=False, reason="Mostly an advert"
        )
        db.session.commit()
    assert points_of(app, author.id)[0] == WELCOME
    assert any("Mostly an advert" in text for _k, text, _u in notes(app, author.id))
    client = app.test_client()
    login(client, author)
    assert "Not approved: Mostly an advert" in client.get(f"/t/{thread_id}").get_data(as_text=True)
    assert "Mostly an advert" not in app.test_client().get(f"/t/{thread_id}").get_data(as_text=True)


def test_removing_an_approved_report_for_abuse_takes_its_reward_back(
    app, shop, make_user, product, buy, report_category
):
    author, mod = make_user("writer"), make_user("moddy", role="moderator")
    report_id, _thread = post_report(
        app, author, report_category, item_of(app, buy(author, product))
    )
    with app.app_context(), app.test_request_context("/"):
        report = db.session.get(ExperienceReport, report_id)
        service.decide_report(db.session.get(User, shop.user.id), report, approve=True)
        db.session.commit()
        service.remove_report(db.session.get(User, mod.id), report, "plagiarised")
        db.session.commit()
    assert points_of(app, author.id)[0] == WELCOME
    assert (
        app.test_client().get(f"/shop/p/{product}").get_data(as_text=True).count("plagiarised") == 0
    )


def test_a_report_earns_members_report_rule_and_a_partial_refund_takes_its_share(
    app, shop, make_user, product, buy, report_category
):
    """Reports earn members' "report" rule (100 points by default) and lose the same
    share of it as the share of the order refunded."""
    from forum.members.models import LedgerEntry
    from forum.shop_embed import service as shop_service
    from forum.shop_embed.models import Order

    author = make_user("writer")
    order_id = buy(author, product)
    report_id, _thread = post_report(app, author, report_category, item_of(app, order_id))
    with app.app_context(), app.test_request_context("/"):
        report = db.session.get(ExperienceReport, report_id)
        service.decide_report(db.session.get(User, shop.user.id), report, approve=True)
        db.session.commit()
    assert points_of(app, author.id)[0] == WELCOME + 100
    with app.app_context(), app.test_request_context("/"):  # a fifth of 30.00 back
        order = db.session.get(Order, order_id)
        shop_service.refund(db.session.get(User, shop.user.id), order, amount_cents=600)
        db.session.commit()
    assert points_of(app, author.id)[0] == WELCOME + 80
    with app.app_context():
        entries = db.session.execute(
            select(LedgerEntry.amount, LedgerEntry.reason)
            .where(LedgerEntry.user_id == author.id, LedgerEntry.reason.like("%report%"))
            .order_by(LedgerEntry.id)
        ).all()
    assert [tuple(e) for e in entries] == [(100, "earn:report"), (-20, "report_reward_reversed")]
