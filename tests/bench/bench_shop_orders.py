"""Benchmark: orders per second through the shop service under contention, and the sell-out race.

    python -m tests.bench.bench_shop_orders                    # a fresh SQLite file
    PLAZA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench \\
        python -m tests.bench.bench_shop_orders                # PostgreSQL (database is emptied)

Two figures of the same load, ``BENCH_WORKERS`` (16) buyers placing and paying
``BENCH_ORDERS_EACH`` (25) orders each, one product for all:

- **one process**, the buyers as 16 threads: CPU-bound under the GIL, so it measures
  the Python CPU per order (the figure issue 20 was first measured with);
- **several processes** (``BENCH_PROCESSES``, 2; the buyers split among them, as a
  deployment runs several worker processes behind one database), the same 16 buyers
  in all. ``BENCH_PROCESSES=1`` prints the first figure only.

Each process places and pays one order first (compiling its statements, as a server
that has been up a while has), which is not counted. Orders per second and latency are
wall-clock figures: on a machine shared with other
work they move with its load (printed); CPU per order (this process's, or the sum of the
workers') and statements per order do not. By Little's law 16 buyers that never pause
make orders/s = 16 / mean latency, so "p50 under 30 ms at 16 buyers" also asks for
more than 500 orders/s. Each process's pool is its threads plus 2 connections.

Prints figures; asserts nothing (tests/shop_embed/test_concurrency.py is the proof).
"""

import multiprocessing
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
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "2"))
# Issue 20's goal for checkout on PostgreSQL at 16 concurrent buyers.
TARGET_ORDERS_PER_S, TARGET_P50_MS = 300, 30
ORDERS_EACH = int(os.environ.get("BENCH_ORDERS_EACH", "25"))


def database_url() -> str:
    url = os.environ.get("PLAZA_BENCH_DATABASE_URL")
    return url or f"sqlite:///{tempfile.mkdtemp(prefix='plaza-bench-')}/bench.sqlite3"


def make_app(url: str | None = None, *, reset: bool = True, threads: int = WORKERS):
    """The app on ``url`` (PLAZA_BENCH_DATABASE_URL or a fresh SQLite file), its tables
    made anew unless ``reset`` is False (a worker process of a run already set up); a
    pool of ``threads`` + 2 connections."""
    from forum import create_app
    from forum.extensions import db

    url = url or database_url()
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
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": threads + 2, "max_overflow": 0},
        }
    )
    if reset:
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


def run(app, workers, work, *, first: int = 0, ready=None):
    """``work(index, step)`` for ``work.each`` steps in each of ``workers`` threads (buyers
    ``first`` ... ``first + workers - 1``), a commit after each step; (wall seconds,
    seconds per step, outcomes, CPU seconds of this process, statements sent). The
    threads start together, once ``ready()`` returned when given (every process of a
    run is ready). A first step of buyer ``first`` before that warms the process (its
    statements compiled, as in a server that has been up a while); it is not counted."""
    from sqlalchemy import event

    from forum.extensions import db

    if getattr(work, "warm", True):
        with app.app_context(), app.test_request_context("/"):
            work(first, 0)
            db.session.commit()
            db.session.remove()

    barrier = threading.Barrier(workers, action=ready)
    timings: list[float] = []
    outcomes: list[str] = []
    statements = [0]
    lock = threading.Lock()
    clock: dict[str, float] = {}

    def count(*_):
        statements[0] += 1  # under the GIL; a rare lost count does not matter here

    def target(index):
        from forum.errors import ServiceError

        with app.app_context(), app.test_request_context("/"):
            barrier.wait()
            clock.setdefault("started", time.monotonic())
            clock.setdefault("cpu", time.process_time())
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

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    threads = [threading.Thread(target=target, args=(first + i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ended, cpu = time.monotonic(), time.process_time() - clock["cpu"]
    event.remove(engine, "before_cursor_execute", count)
    return ended - clock["started"], timings, outcomes, cpu, statements[0], clock["started"]


def buy_and_pay(plenty: int, buyers: list[int]):
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.shop_embed import service

    def work(index, step):
        user = db.session.get(User, buyers[index])
        order, _ = service.place_order(user, [(plenty, 1)], shipping_address=ADDRESS)
        # Two requests, two transactions, as POST /orders then POST /orders/<id>/pay: in
        # one transaction the product row stayed locked through paying and serialised buyers.
        db.session.commit()
        service.pay(user, order, "sandbox")

    work.each = ORDERS_EACH
    return work


def _worker(url, plenty, buyers, first, count, start, results) -> None:
    """One process of a multi-process run: ``count`` buyers from ``first`` as threads."""
    app, _ = make_app(url, reset=False, threads=count)
    wall, timings, outcomes, cpu, statements, started = run(
        app, count, buy_and_pay(plenty, buyers), first=first, ready=start.wait
    )
    results.put((timings, outcomes, cpu, statements, started + wall))


def run_processes(url, plenty, buyers, processes: int):
    """The same buyers split among ``processes`` worker processes (spawned, each with its
    own app and pool); the clock runs from the moment all are ready to the last one's end."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes + 1), context.Queue()
    shares = [WORKERS // processes + (n < WORKERS % processes) for n in range(processes)]
    children, first = [], 0
    for share in shares:
        child = context.Process(
            target=_worker, args=(url, plenty, buyers, first, share, start, results)
        )
        child.start()
        children.append(child)
        first += share
    start.wait()
    started = time.monotonic()
    parts = [results.get() for _ in children]
    for child in children:
        child.join()
    timings = [t for part in parts for t in part[0]]
    outcomes = [o for part in parts for o in part[1]]
    wall = max(part[4] for part in parts) - started
    return wall, timings, outcomes, sum(p[2] for p in parts), sum(p[3] for p in parts), shares


def report(dialect, label, wall, timings, outcomes, cpu, statements, cpu_note) -> None:
    from tests.bench.common import load_average

    ms = sorted(t * 1000 for t in timings)
    rate, p50 = len(ms) / wall, statistics.median(ms)
    print(
        f"[{dialect}] place+pay, one product, {label}: "
        f"{rate:.0f} orders/s ({rate / TARGET_ORDERS_PER_S:.2f}x the {TARGET_ORDERS_PER_S}/s goal), "
        f"p50 {p50:.1f} ms ({TARGET_P50_MS / p50:.2f}x the {TARGET_P50_MS} ms goal), "
        f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, errors {len([o for o in outcomes if o != 'ok'])}"
        f" ({load_average()})\n"
        f"  per order: {statements / len(ms):.1f} SQL statements (commits not counted), "
        f"{cpu / len(ms) * 1000:.1f} ms of CPU ({cpu_note(len(ms) / cpu)})",
        flush=True,
    )


def main():
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.shop_embed import service
    from forum.shop_embed.models import Order, Product

    url = database_url()
    app, dialect = make_app(url)
    plenty, hot, buyers = setup(app)
    with app.app_context():
        db.engine.dispose()  # nothing of this process's pool is shared with the workers

    figures = run(app, WORKERS, buy_and_pay(plenty, buyers))[:5]
    report(
        dialect,
        f"{WORKERS} buyers as threads of ONE process (GIL-bound)",
        *figures,
        lambda cap: (
            f"this process's, load-independent; the GIL caps one process at {cap:.0f} orders/s"
        ),
    )
    if PROCESSES > 1:
        *figures, shares = run_processes(url, plenty, buyers, PROCESSES)
        report(
            dialect,
            f"{WORKERS} buyers in {PROCESSES} processes ({' + '.join(map(str, shares))} threads)",
            *figures,
            lambda cap: f"the {PROCESSES} processes' sum; {cap:.0f} orders/s per core of Python",
        )

    def race(index, step):
        service.place_order(db.session.get(User, buyers[index]), [(hot, 1)])

    race.each, race.warm = 1, False  # the 10 units are for the race
    wall, timings, outcomes, *_ = run(app, WORKERS, race)
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
