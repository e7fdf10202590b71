"""Benchmark: orders per second through the shop service under contention, and the sell-out race.

    python -m tests.bench.bench_shop_orders                    # a fresh SQLite file
    PLAZA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench \\
        python -m tests.bench.bench_shop_orders                # PostgreSQL (database is emptied)

Prints figures; asserts nothing (tests/shop_embed/test_concurrency.py is the proof).
"""

import os
import statistics
import tempfile
import threading
import time

from sqlalchemy import func, select

# Goods ship: an order is paid only with an address (as every real checkout gives one).
ADDRESS = {
    "name": "Bench Buyer",
    "line1": "1 Bench St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}
WORKERS = int(os.environ.get("BENCH_WORKERS", "16"))
# Issue 20's goal for checkout on PostgreSQL at 16 concurrent buyers.
TARGET_ORDERS_PER_S, TARGET_P50_MS = 300, 30
ORDERS_EACH = int(os.environ.get("BENCH_ORDERS_EACH", "25"))


def make_app():
    from forum import create_app
    from forum.extensions import db

    url = os.environ.get("PLAZA_BENCH_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='plaza-bench-')}/bench.sqlite3"
    app = create_app(
        {
            "ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "PAYMENTS_SANDBOX": True,
            "SHOP_MAX_PENDING_ORDERS": 10**6,
            "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="plaza-bench-up-"),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": WORKERS + 4, "max_overflow": 0},
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app, url.split(":", 1)[0]


def setup(app):
    from forum.accounts import service as accounts
    from forum.extensions import db
    from forum.shop_embed import service

    with app.app_context(), app.test_request_context("/"):
        seller = accounts.register(
            "bench_shop", "shop@bench.example", "bench-passphrase-kept", role="merchant"
        )
        service.save_merchant_profile(
            seller, name="Bench Shop", slug="bench", logo_initials="BS", shipping_fee_cents=300
        )
        plenty = service.create_product(seller, name="Plenty", price_cents=999, stock=10**6)
        hot = service.create_product(seller, name="Hot", price_cents=4999, stock=10)
        buyers = [
            accounts.register(f"buyer{i}", f"b{i}@bench.example", "bench-passphrase-kept").id
            for i in range(WORKERS)
        ]
        db.session.commit()
        return plenty.id, hot.id, buyers


def run(app, workers, work):
    barrier = threading.Barrier(workers)
    timings: list[float] = []
    outcomes: list[str] = []
    lock = threading.Lock()

    def target(index):
        from forum.errors import ServiceError
        from forum.extensions import db

        with app.app_context(), app.test_request_context("/"):
            barrier.wait()
            for step in range(work.each):
                started = time.perf_counter()
                try:
                    work(index, step)
                    db.session.commit()
                    outcome = "ok"
                except ServiceError as err:
                    db.session.rollback()
                    outcome = err.code
                elapsed = time.perf_counter() - started
                with lock:
                    timings.append(elapsed)
                    outcomes.append(outcome)
            db.session.remove()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, timings, outcomes


def main():
    from sqlalchemy import event

    from forum.accounts.models import User
    from forum.extensions import db
    from forum.shop_embed import service
    from forum.shop_embed.models import Order, Product

    app, dialect = make_app()
    plenty, hot, buyers = setup(app)
    statements = [0]
    with app.app_context():

        @event.listens_for(db.engine, "before_cursor_execute")
        def count(*_):
            statements[0] += 1

    def buy_and_pay(index, step):
        user = db.session.get(User, buyers[index])
        order, _ = service.place_order(user, [(plenty, 1)], shipping_address=ADDRESS)
        # Two requests, two transactions, as POST /orders then POST /orders/<id>/pay: in
        # one transaction the product row stayed locked through paying and serialised buyers.
        db.session.commit()
        service.pay(user, order, "sandbox")

    buy_and_pay.each = ORDERS_EACH
    statements[0], cpu = 0, time.process_time()
    wall, timings, outcomes = run(app, WORKERS, buy_and_pay)
    cpu = time.process_time() - cpu
    ms = sorted(t * 1000 for t in timings)
    rate, p50 = len(ms) / wall, statistics.median(ms)
    print(
        f"[{dialect}] place+pay, one product, {WORKERS} threads x {ORDERS_EACH}: "
        f"{rate:.0f} orders/s ({rate / TARGET_ORDERS_PER_S:.2f}x the {TARGET_ORDERS_PER_S}/s goal), "
        f"p50 {p50:.1f} ms ({TARGET_P50_MS / p50:.2f}x the {TARGET_P50_MS} ms goal), "
        f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, errors {len([o for o in outcomes if o != 'ok'])}\n"
        f"  per order: {statements[0] / len(ms):.1f} SQL statements (commits included), "
        f"{cpu / len(ms) * 1000:.1f} ms of this process's CPU (load-independent; the GIL "
        f"caps one process at {len(ms) / cpu:.0f} orders/s)"
    )

    def race(index, step):
        service.place_order(db.session.get(User, buyers[index]), [(hot, 1)])

    race.each = 1
    wall, timings, outcomes = run(app, WORKERS, race)
    with app.app_context():
        left = db.session.get(Product, hot).stock
        orders = db.session.scalar(
            select(func.count()).select_from(Order).where(Order.status == "pending")
        )
    print(
        f"[{dialect}] sell-out race, 10 units, {WORKERS} buyers: sold {outcomes.count('ok')}, "
        f"refused {outcomes.count('insufficient_stock')}, stock left {left}, pending orders {orders}, "
        f"{wall * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
