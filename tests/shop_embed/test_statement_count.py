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

# (place, pay) statements of a returning buyer's order, commits not counted.
# Was (15, 20) / (15, 21): the quote reads buyable units with its products, the stock
# guard returns what is left for the live push, paying moves the order in one UPDATE
# ... RETURNING, and attribution inserts a just-paid order's conversion as its row.
BOUNDS = {"postgresql": (13, 17), "sqlite": (12, 17)}


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
