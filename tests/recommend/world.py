"""A small hand-made community for the recommendation tests and the browser test
(import ``world`` into a test module to use the fixture).

espresso: "Grinder advice" (G), "Best beans" (B), "Milk steaming" (M); cycling: "Road
bikes" (R); the VIP lounge (readable by VIPs only): "Lounge talk" (L).
bob and carol read G, B, M and L, and bought the grinder, the beans, the scale, the VIP
kettle and the tamper; they are in General and Espresso chat and in a private room
"Secret"; both signed up for the past Cupping and the coming Latte art night.
alice replied in G, joined the grinder group-buy (a paid "groupbuy" order), clicked the
tamper's card, is in General, and went to the Cupping. The scale is sold out, the kettle
is for VIPs. newbie has done nothing yet.
"""

from datetime import timedelta

import pytest
from sqlalchemy import update

from forum.accounts.models import User
from forum.attribution.models import Click
from forum.board import service as board
from forum.board.models import Category, Thread, ThreadRead
from forum.chat.models import ChatMember, ChatRoom
from forum.clock import now
from forum.events.models import Event, Signup
from forum.extensions import db
from forum.shop_embed.models import Order, OrderItem, Product
from tests.conftest import app_context


@pytest.fixture
def world(app, make_user, make_category, make_shop, make_product):
    names = ("alice", "bob", "carol", "newbie")
    users = {name: make_user(name) for name in names}
    espresso = make_category("espresso")
    cycling = make_category("cycling")
    lounge = make_category("lounge", "VIP lounge")
    shop = make_shop("beanery")
    products = {
        key: make_product(shop, name, stock=20)
        for key, name in (
            ("grinder", "Grinder"),
            ("beans", "House beans"),
            ("scale", "Brew scale"),
            ("kettle", "Gooseneck kettle"),
            ("tamper", "Steel tamper"),
        )
    }
    ids: dict = {"users": {n: u.id for n, u in users.items()}, "products": products}
    with app_context(app), app.test_request_context("/"):
        db.session.execute(update(Product).where(Product.id == products["scale"]).values(stock=0))
        db.session.execute(
            update(Product).where(Product.id == products["kettle"]).values(audience="vip")
        )
        person = {n: db.session.get(User, u.id) for n, u in users.items()}
        threads = {}
        for key, title, category in (
            ("G", "Grinder advice", espresso),
            ("B", "Best beans", espresso),
            ("M", "Milk steaming", espresso),
            ("R", "Road bikes", cycling),
            ("L", "Lounge talk", lounge),
        ):
            author = person["carol"] if key != "G" else person["bob"]
            threads[key] = board.create_thread(
                author, db.session.get(Category, category), title, f"About {title.lower()}"
            ).id
        db.session.execute(update(Category).where(Category.id == lounge).values(read_tiers="vip"))
        db.session.commit()
        board.reply(person["alice"], db.session.get(Thread, threads["G"]), "Burrs matter")
        for name in ("bob", "carol"):
            for key in ("G", "B", "M", "L"):
                db.session.merge(
                    ThreadRead(user_id=users[name].id, thread_id=threads[key], last_read_position=1)
                )
        merchant_id = db.session.get(Product, products["grinder"]).merchant_id

        def bought(name, keys, kind="standard"):
            order = Order(
                kind=kind,
                buyer_id=users[name].id,
                merchant_id=merchant_id,
                status="paid",
                currency="USD",
                subtotal_cents=1000,
                total_cents=1000,
            )
            for key in keys:
                order.items.append(
                    OrderItem(
                        product_id=products[key],
                        name=key,
                        unit_price_cents=1000,
                        quantity=1,
                        line_total_cents=1000,
                    )
                )
            db.session.add(order)

        for name in ("bob", "carol"):
            bought(name, ["grinder", "beans", "scale", "kettle", "tamper"])
        bought("alice", ["grinder"], kind="groupbuy")
        db.session.add(
            Click(
                source_kind="post",
                source_id=1,
                embed_kind="product",
                embed_id=products["tamper"],
                user_id=users["alice"].id,
                dedupe_key="alice-tamper",
            )
        )
        rooms = {}
        for slug, name, kind in (
            ("general", "General", "public"),
            ("espresso-chat", "Espresso chat", "public"),
            ("secret", "Secret", "private"),
        ):
            room = ChatRoom(slug=slug, name=name, kind=kind)
            db.session.add(room)
            db.session.flush()
            rooms[slug] = room.id
        for name, slugs in (
            ("bob", ("general", "espresso-chat", "secret")),
            ("carol", ("general", "espresso-chat", "secret")),
            ("alice", ("general",)),
        ):
            for slug in slugs:
                db.session.add(ChatMember(room_id=rooms[slug], user_id=users[name].id))
        events = {}
        for key, title, days in (("cupping", "Cupping", -3), ("latte", "Latte art night", 5)):
            starts = now() + timedelta(days=days)
            event = Event(
                host_id=users["carol"].id,
                title=title,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
            )
            db.session.add(event)
            db.session.flush()
            events[key] = event.id
        code = iter(range(100))
        for name, keys in (
            ("bob", ("cupping", "latte")),
            ("carol", ("cupping", "latte")),
            ("alice", ("cupping",)),
        ):
            for key in keys:
                db.session.add(
                    Signup(
                        event_id=events[key],
                        user_id=users[name].id,
                        status="confirmed",
                        checkin_code=f"C{next(code)}",
                    )
                )
        db.session.commit()
    ids.update(threads=threads, rooms=rooms, events=events, categories={"lounge": lounge})
    ids["refs"] = users
    return ids
