"""Hand-built community journeys on a controlled clock, shared by the health tests and
the browser test (import ``community`` into a test module to use the fixture)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from forum.accounts.models import User
from forum.board import service as board
from forum.board.models import Category, Post, Thread
from forum.clock import replaying
from forum.extensions import db
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.fixtures.shop import order_body

RANGE = {"from": "2026-03-02", "to": "2026-03-15"}


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def community(app, make_user, make_category, make_shop, make_product, token_for, client):
    """The journeys (range 2026-03-02 .. 03-15, weeks start on the 2nd and the 9th):

    olga   registered in January; replies to T2 on 03-14.
    alice  registers 03-02 10:00, opens T1 at 12:00, buys 03-10 09:00 (7d23h: not week 1
           of activation, but her week 1 of retention), opens T3 on 03-12 (never answered).
    bob    registers 03-03 08:00, replies to T1 at 12:00 (first reply: 24 h), opens T2 on
           03-11 09:00 (8d1h after sign-up).
    erin   registers 03-04, replies to T1 and the reply is deleted: nothing counts.
    carol  registers 03-09 10:00, replies to T2 on 03-11 10:00 (first reply: 60 min);
           an order of hers on 03-13 is never paid.
    dave   registers 03-10 08:00, buys at 12:00.
    """
    users = {}
    with replaying(at(1, 9, month=1)):
        category_id = make_category("general")
        shop = make_shop("acme")
        product = make_product(shop, price_cents=1000, stock=50)
        users["olga"] = make_user("olga")
    for name, moment in (
        ("alice", at(2, 10)),
        ("bob", at(3, 8)),
        ("erin", at(4, 9)),
        ("carol", at(9, 10)),
        ("dave", at(10, 8)),
    ):
        with replaying(moment):
            users[name] = make_user(name)

    def person(name):
        return db.session.get(User, users[name].id)

    with app_context(app), app.test_request_context("/"):
        category = db.session.get(Category, category_id)

        def thread(name, moment, title):
            with replaying(moment):
                made = board.create_thread(person(name), category, title, "Opening words here")
                db.session.commit()
                return made.id

        def reply(name, thread_id, moment):
            with replaying(moment):
                post = board.reply(person(name), db.session.get(Thread, thread_id), "A reply")
                db.session.commit()
                return post.id

        t1 = thread("alice", at(2, 12), "First thread of alice")
        reply("bob", t1, at(3, 12))
        gone = reply("erin", t1, at(4, 10))
        db.session.execute(update(Post).where(Post.id == gone).values(deleted_at=at(4, 11)))
        t2 = thread("bob", at(11, 9), "A thread by bob")
        reply("carol", t2, at(11, 10))
        thread("alice", at(12, 10), "Nobody answers this")
        reply("olga", t2, at(14, 10))
        db.session.commit()

    def order(name, moment, status):
        response = client.post(
            "/api/v1/orders", json=order_body((product, 1)), headers=token_for(users[name])
        )
        assert response.status_code == 201, response.json
        with app_context(app):
            db.session.execute(
                update(Order)
                .where(Order.id == response.json["id"])
                .values(status=status, created_at=moment)
            )
            db.session.commit()

    order("alice", at(10, 9), "paid")
    order("dave", at(10, 12), "completed")
    order("carol", at(13, 10), "pending")
    return users
