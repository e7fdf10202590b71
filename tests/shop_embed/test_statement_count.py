"""SQL statements per checkout: placing and paying an order must not silently grow.

Checkout speed on PostgreSQL is mostly statements (each a round trip and ORM work, some
while the product row is locked); every feature that hears ``order_priced`` or
``order_changed`` adds to it. These bounds are today's counts: a change that needs more
must say why here. The figures are printed by ``python -m tests.bench shop_orders``.
"""

from forum.accounts.models import User
from forum.extensions import db
from forum.shop_embed import service

from .conftest import ADDRESS

# (place, pay) statements of a returning buyer's order, commits not counted (paying
# includes reading the buyer back after the place's commit, as the test holds the object).
# Was (15, 20) / (15, 21): the quote reads buyable units with its products, the stock
# guard returns what is left for the live push, paying moves the order in one UPDATE
# ... RETURNING, and attribution inserts a just-paid order's conversion as its row.
# Was (13, 17) / (12, 17) (issue 20): the member's tier is one read (rules, membership,
# completed purchases), the order's INSERT takes the buyer's order lock in its RETURNING,
# paying reads the order with its merchant and lines in one statement, attribution reads
# settings, touches, an earlier conversion and a waiting sign-up in one statement.
BOUNDS = {"postgresql": (10, 12), "sqlite": (10, 12)}
# The same through the API, each request's statements (the token lookup and the answer's
# reads included): POST /api/v1/orders, then POST /api/v1/orders/<id>/pay.
API_BOUNDS = (11, 14)


def _checkout(app, buyer_id: int, product_id: int, count_queries) -> tuple[int, int]:
    with app.app_context(), app.test_request_context("/"):
        user = db.session.get(User, buyer_id)
        with count_queries() as placing:
            order, _ = service.place_order(user, [(product_id, 1)], shipping_address=ADDRESS)
        db.session.commit()
        with count_queries() as paying:
            service.pay(user, order, "sandbox")
        db.session.commit()
        assert order.status == "paid"
    ignored = ("COMMIT", "BEGIN")
    return (
        len([s for s in placing if not s.startswith(ignored)]),
        len([s for s in paying if not s.startswith(ignored)]),
    )


def test_a_checkout_stays_within_its_statement_budget(
    app, shop, make_product, buyer, count_queries
):
    product_id = make_product(shop, stock=10)
    _checkout(app, buyer.id, product_id, count_queries)  # the first purchase writes more
    place, pay = _checkout(app, buyer.id, product_id, count_queries)
    with app.app_context():
        dialect = db.engine.dialect.name
    most_place, most_pay = BOUNDS[dialect]
    assert place <= most_place, f"placing an order took {place} statements"
    assert pay <= most_pay, f"paying an order took {pay} statements"


def test_an_api_checkout_stays_within_its_statement_budget(
    app, client, shop, make_product, buyer_headers, count_queries
):
    product_id = make_product(shop, stock=10)
    body = {"items": [{"product_id": product_id, "quantity": 1}], "shipping_address": ADDRESS}
    counts = []
    for _ in range(2):  # the first purchase writes more
        with count_queries() as placing:
            placed = client.post("/api/v1/orders", json=body, headers=buyer_headers)
        assert placed.status_code == 201, placed.json
        with count_queries() as paying:
            paid = client.post(
                f"/api/v1/orders/{placed.json['id']}/pay",
                json={"provider": "sandbox"},
                headers=buyer_headers,
            )
        assert paid.status_code == 200 and paid.json["status"] == "paid", paid.json
        ignored = ("COMMIT", "BEGIN")
        counts.append(
            (
                len([s for s in placing if not s.startswith(ignored)]),
                len([s for s in paying if not s.startswith(ignored)]),
            )
        )
    place, pay = counts[-1]
    assert place <= API_BOUNDS[0], f"POST /orders took {place} statements"
    assert pay <= API_BOUNDS[1], f"POST /orders/<id>/pay took {pay} statements"
