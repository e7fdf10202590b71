"""A product card's evaluation over a large community: ``BENCH_EVALUATION_MEMBERS``
members (20,000 by default), a third of them exposed, a third active elsewhere, and one
paid order per five members. Prints the rows and the evaluation's median and worst time
over 5 runs: every figure is an aggregate statement, so the work is the database's and
nothing grows in Python with the members (``BENCH_DATABASE_URL``: a fresh SQLite file by
default)."""

import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta


def main() -> None:
    from sqlalchemy import insert, select

    from forum import create_app
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.insight import service
    from forum.insight.models import Exposure
    from forum.shop_embed.models import Merchant, Order, Product
    from tests.bench.common import database_uri

    size = int(os.environ.get("BENCH_EVALUATION_MEMBERS", "20000"))
    uri = database_uri()
    app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": uri})
    start = datetime(2026, 3, 1, tzinfo=UTC)
    rng = random.Random(19)
    with app.app_context():
        db.create_all()
        db.session.execute(
            insert(User),
            [
                {
                    "username": f"m{i:06d}",
                    "username_key": f"m{i:06d}",
                    "email": f"m{i:06d}@example.com",
                    "password_hash": "x",
                    "role": "merchant" if i == 0 else "member",
                    "tier": "registered",
                    "bio": "",
                    "timezone": "UTC",
                    "post_count": 0,
                    "session_version": 1,
                    "created_at": start - timedelta(days=60),
                }
                for i in range(size)
            ],
        )
        ids = db.session.scalars(select(User.id).order_by(User.id)).all()
        shop = Merchant(user_id=ids[0], name="Bench", slug="bench", logo_initials="BE")
        db.session.add(shop)
        db.session.flush()
        product = Product(merchant_id=shop.id, name="Widget", price_cents=1000, currency="USD")
        db.session.add(product)
        db.session.flush()
        exposures = [
            {
                "user_id": uid,
                "embed_kind": "product" if index % 3 == 1 else "snap",
                "embed_id": product.id if index % 3 == 1 else 99,
                "source_kind": "post",
                "source_id": 1 + index % 40,
                "author_id": None,
                "first_seen_at": start + timedelta(minutes=rng.randrange(14 * 1440)),
            }
            for index, uid in enumerate(ids[1:])
            if index % 3 != 0
        ]
        db.session.execute(insert(Exposure), exposures)
        orders = [
            {
                "buyer_id": uid,
                "merchant_id": shop.id,
                "status": "paid",
                "currency": "USD",
                "subtotal_cents": 1000,
                "total_cents": 1000,
                "shipping_address": {},
                "adjustments": [],
                "created_at": start + timedelta(minutes=rng.randrange(-60 * 1440, 14 * 1440)),
                "updated_at": start,
            }
            for uid in rng.sample(ids[1:], len(ids) // 5)
        ]
        db.session.execute(insert(Order), orders)
        db.session.commit()
        timings = []
        for _ in range(5):
            began = time.perf_counter()
            with app.test_request_context("/"):
                report = service.evaluate(
                    "product",
                    product.id,
                    merchant_user_id=ids[0],
                    raw_from="2026-03-01",
                    raw_to="2026-03-14",
                )
            timings.append(time.perf_counter() - began)
        print(
            f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}: {size} members, "
            f"{len(exposures)} exposures, {len(orders)} orders; reach {report['reach']}, "
            f"control {report['unexposed']['members']}, incremental orders "
            f"{report['incremental_orders']['value']:.1f} "
            f"[{report['incremental_orders']['low']:.1f}, {report['incremental_orders']['high']:.1f}]"
        )
        print(
            f"evaluate(): median {statistics.median(timings) * 1000:.0f} ms, "
            f"worst {max(timings) * 1000:.0f} ms over {len(timings)} runs"
        )


if __name__ == "__main__":
    main()
