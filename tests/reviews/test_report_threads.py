"""A thread in a category marked for experience reports is a report, whatever the door:
``POST /api/v1/threads``, the HTML new-thread form and the board's own service apply
the reviews path's rules (a completed purchase of the author's, not the shop's, once),
and every refusal writes nothing."""

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.board.models import Category, Thread
from forum.errors import Forbidden
from forum.extensions import db
from forum.reviews.models import ExperienceReport
from forum.shop_embed import service as shop_service
from forum.shop_embed.models import Order
from tests.conftest import login

from .conftest import ADDRESS, item_of, review_rows


def threads(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Thread))


def post_thread(app, headers, **fields):
    body = {
        "category": "experiences",
        "title": "Three months with it",
        "body": "It still works.",
        **fields,
    }
    return app.test_client().post("/api/v1/threads", json=body, headers=headers)


def test_the_api_refuses_a_report_thread_without_a_completed_purchase(
    app, shop, make_user, make_shop, make_product, product, buy, report_category, token_for
):
    buyer, stranger, friend = make_user("writer"), make_user("stranger"), make_user("friend")
    own = item_of(app, buy(shop.user, product, address={**ADDRESS, "line1": "3 Shop Row"}))
    home = {**ADDRESS, "line1": "4 Merchant Home"}
    buy(shop.user, make_product(make_shop("otherstore"), "Mug"), address=home)
    friendly = item_of(app, buy(friend, product, address=home))
    completed = item_of(app, buy(buyer, product))
    unfinished = item_of(app, buy(buyer, product, status="paid"))
    refunded_order = buy(buyer, product, address={**ADDRESS, "line1": "2 Side St"})
    with app.app_context(), app.test_request_context("/"):
        shop_service.refund(
            db.session.get(User, shop.user.id), db.session.get(Order, refunded_order)
        )
        db.session.commit()
    refunded = item_of(app, refunded_order)
    before, before_threads = review_rows(app), threads(app)
    refusals = [
        (stranger, {}, 422, "invalid"),  # no purchase named
        (stranger, {"order_item_id": completed}, 403, "not_a_buyer"),  # someone else's
        (buyer, {"order_item_id": unfinished}, 403, "order_not_completed"),
        (buyer, {"order_item_id": refunded}, 403, "order_refunded"),
        (buyer, {"order_item_id": 999_999}, 403, "not_a_buyer"),  # no such item
        (buyer, {"order_item_id": 10**12}, 422, "invalid"),  # past a database integer
        (buyer, {"order_item_id": "1; drop table"}, 422, "invalid"),
        (shop.user, {"order_item_id": own}, 403, "merchant_cannot_review"),
        (friend, {"order_item_id": friendly}, 403, "shared_address"),  # the shop's address
    ]
    for user, fields, status, code in refusals:
        answer = post_thread(app, token_for(user), **fields)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, code), fields
    assert review_rows(app) == before and threads(app) == before_threads

    made = post_thread(app, token_for(buyer), order_item_id=completed)
    assert made.status_code == 201
    body = made.get_json()
    assert body["category"] == "experiences" and body["first_post"]["body_html"]
    with app.app_context():
        report = db.session.scalar(select(ExperienceReport))
        assert (report.thread_id, report.status, report.order_item_id) == (
            body["id"],
            "pending",
            completed,
        )
    again = post_thread(app, token_for(buyer), order_item_id=completed)
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_reported")
    assert threads(app) == before_threads + 1


def test_order_item_id_belongs_only_to_report_categories(
    app, make_user, product, buy, make_category, token_for
):
    buyer = make_user("writer")
    make_category("general")
    item = item_of(app, buy(buyer, product))
    answer = post_thread(app, token_for(buyer), category="general", order_item_id=item)
    assert answer.status_code == 422
    assert "order_item_id" in answer.get_json()["error"]["fields"]
    plain = post_thread(app, token_for(buyer), category="general")
    assert plain.status_code == 201


def test_the_html_form_sends_a_report_category_to_the_report_composer(
    app, make_user, product, buy, report_category
):
    buyer, stranger = make_user("writer"), make_user("stranger")
    item = item_of(app, buy(buyer, product))
    before = threads(app)
    client = app.test_client()
    login(client, stranger)
    sent = client.post("/c/experiences/new", data={"title": "Just a thread", "body": "Hi"})
    assert sent.status_code == 302 and "/reports/new" in sent.headers["Location"]
    # The composer offers a stranger no purchase, and a forged one is refused.
    composer = client.post(
        "/reports/new?category=experiences",
        data={"order_item": str(item), "title": "Not mine at all", "body": "Hi"},
    )
    assert composer.status_code == 422
    assert threads(app) == before


def test_the_board_service_itself_refuses_a_plain_thread_in_a_report_category(
    app, make_user, report_category
):
    from forum.board import service as board

    member = make_user("member")
    with app.app_context(), app.test_request_context("/"):
        with pytest.raises(Forbidden) as refused:
            board.create_thread(
                db.session.get(User, member.id),
                db.session.get(Category, report_category),
                "A thread",
                "Body",
            )
        assert refused.value.code == "purchase_required"
        db.session.rollback()
    assert threads(app) == 0
