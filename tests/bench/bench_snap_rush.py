"""Benchmark: a snap-up rush over HTTP against the production server command.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench_snap \\
        python -m tests.bench snap_rush          # the database is emptied first

Fires BENCH_ATTEMPTS buy attempts (default 2,000) from BENCH_CONCURRENCY threads
(default 50) at a snap-up with BENCH_STOCK units (default 100, limit 1 per buyer),
served by ``gunicorn -w 1 --threads 100 'forum:create_app()'`` with FORUM_ENV=production
on loopback. Each of BENCH_BUYERS buyers (default 1,000) tries twice. Prints attempts
per second, p50/p99 latency, units sold and whether any invariant broke (checked in the
database: stock never below zero, exactly the stock sold, nobody over the limit, no 5xx,
initial = remaining + sold + awaiting payment). The server's page cache is Redis
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/0, a fresh key prefix) as in production,
which holds the sold-out marker; BENCH_PAGE_CACHE=0 runs without it. Without BENCH_DATABASE_URL it uses a
SQLite file (the figures then say little about production).
"""

import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import timedelta
from pathlib import Path

import requests

from tests.bench.common import database_uri, percentile
from tests.e2e.conftest import free_port, wait_until_healthy

ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
STOCK = int(os.environ.get("BENCH_STOCK", "100"))
BUYERS = int(os.environ.get("BENCH_BUYERS", "1000"))
DEADLINE_SECONDS = float(os.environ.get("BENCH_DEADLINE", "300"))
POOL = int(os.environ.get("BENCH_DB_POOL", "20"))


def build(uri: str) -> tuple[int, int, list[str]]:
    """A fresh schema, a merchant, a product, a running snap-up and buyers with API tokens."""
    from sqlalchemy import insert

    from forum import create_app
    from forum.accounts import service as accounts
    from forum.accounts.models import User
    from forum.clock import now
    from forum.extensions import db
    from forum.promotions import service as promotions
    from forum.shop_embed import service as shop

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        seller = accounts.register(
            "rush_shop", "rush@bench.example", "bench passphrase kept", role="merchant"
        )
        shop.save_merchant_profile(seller, name="Rush Shop", slug="rush", logo_initials="RS")
        product = shop.create_product(
            seller, name="Limited sneakers", price_cents=19900, stock=STOCK * 3
        )
        snap = promotions.create_snap(
            seller,
            product_id=product.id,
            price_cents=9900,
            stock=STOCK,
            per_user_limit=1,
            starts_at=now() - timedelta(seconds=5),
            ends_at=now() + timedelta(hours=1),
        )
        db.session.execute(
            insert(User),
            [
                {
                    "username": f"rusher{n:05d}",
                    "username_key": f"rusher{n:05d}",
                    "email": f"rusher{n}@bench.example",
                    "password_hash": "x",
                }
                for n in range(BUYERS)
            ],
        )
        db.session.flush()
        users = db.session.scalars(db.select(User).where(User.username.like("rusher%"))).all()
        tokens = [accounts.issue_token(user) for user in users]
        db.session.commit()
        ids = product.id, snap.id
        db.engine.dispose()
    return ids[0], ids[1], tokens


def serve(uri: str) -> tuple[str, subprocess.Popen, Path]:
    """The production command: gunicorn, one process, 100 threads, FORUM_ENV=production."""
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="plaza-rush-")) / "gunicorn.log"
    env = {
        **os.environ,
        "FORUM_ENV": "production",
        "FORUM_SECRET_KEY": "bench-" + secrets.token_hex(8),
        "FORUM_SQLALCHEMY_DATABASE_URI": uri,
        "FORUM_PAYMENTS_SANDBOX": "false",
        "FORUM_RATELIMIT_ENABLED": "false",
        "FORUM_SQLALCHEMY_ENGINE_OPTIONS": f'{{"pool_size": {POOL}, "max_overflow": 0, "pool_timeout": 60}}',
    }
    if os.environ.get("BENCH_PAGE_CACHE", "1") != "0":  # Redis, as production: the sold-out marker
        env["FORUM_PAGE_CACHE_REDIS_URL"] = os.environ.get(
            "BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"
        )
        env["FORUM_PAGE_CACHE_PREFIX"] = f"plaza-rush-{os.getpid()}-{time.time_ns()}:"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(
        [gunicorn, "-w", "1", "--threads", "100", "-b", f"127.0.0.1:{port}", "forum:create_app()"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    failure = wait_until_healthy(url, process, log)
    if failure is not None:
        process.terminate()
        raise RuntimeError(failure)
    return url, process, log


def rush(url: str, snap_id: int, tokens: list[str]) -> dict:
    plan = [tokens[n % len(tokens)] for n in range(ATTEMPTS)]
    local = threading.local()
    stop_at = time.monotonic() + DEADLINE_SECONDS

    def attempt(token: str):
        if time.monotonic() > stop_at:
            return None, "skipped"
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        started = time.perf_counter()
        response = session.post(
            f"{url}/api/v1/snaps/{snap_id}/buy",
            json={"quantity": 1},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(8)},
            timeout=60,
        )
        elapsed = time.perf_counter() - started
        if response.status_code == 201:
            return elapsed, "bought"
        try:
            code = response.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = f"http_{response.status_code}"
        return elapsed, code if response.status_code < 500 else f"http_{response.status_code}"

    latencies, outcomes = [], Counter()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for future in as_completed([pool.submit(attempt, token) for token in plan]):
            elapsed, outcome = future.result()
            outcomes[outcome] += 1
            if elapsed is not None:
                latencies.append(elapsed)
    wall = time.monotonic() - started
    return {"wall": wall, "latencies": latencies, "outcomes": outcomes}


def check(uri: str, product_id: int, snap_id: int) -> dict:
    """The invariants, from the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(uri)
    with engine.connect() as conn:
        snap = conn.execute(
            text("SELECT stock, stock_left FROM promo_snaps WHERE id = :i"), {"i": snap_id}
        ).one()
        units = dict(
            conn.execute(
                text(
                    "SELECT o.status, COALESCE(SUM(p.quantity), 0) FROM promo_snap_purchases p "
                    "JOIN shop_orders o ON o.id = p.order_id WHERE p.snap_id = :i GROUP BY o.status"
                ),
                {"i": snap_id},
            ).all()
        )
        per_buyer = conn.execute(
            text(
                "SELECT COALESCE(MAX(n), 0) FROM (SELECT buyer_id, COUNT(*) AS n FROM shop_orders "
                "WHERE kind = 'snap' GROUP BY buyer_id) t"
            )
        ).scalar()
        over_limit = conn.execute(
            text("SELECT COUNT(*) FROM promo_snap_buyers WHERE bought > 1")
        ).scalar()
        product_stock = conn.execute(
            text("SELECT stock FROM shop_products WHERE id = :i"), {"i": product_id}
        ).scalar()
        held = conn.execute(
            text(
                "SELECT COALESCE(SUM(quantity), 0) FROM shop_stock_reservations WHERE product_id = :i AND state = 'active'"
            ),
            {"i": product_id},
        ).scalar()
    engine.dispose()
    pending = int(units.get("pending", 0))
    sold = sum(int(units.get(s, 0)) for s in ("paid", "shipped", "completed"))
    broken = []
    if snap.stock_left < 0 or product_stock < 0:
        broken.append("stock below zero")
    if snap.stock != snap.stock_left + sold + pending:
        broken.append("snap conservation")
    if product_stock + held != STOCK * 3:
        broken.append("product conservation")
    if per_buyer > 1 or over_limit:
        broken.append("per-user limit")
    return {"units": pending + sold, "stock_left": snap.stock_left, "broken": broken}


def main() -> None:
    uri = database_uri()
    product_id, snap_id, tokens = build(uri)
    url, process, log = serve(uri)
    try:
        figures = rush(url, snap_id, tokens)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
    state = check(uri, product_id, snap_id)
    outcomes = figures["outcomes"]
    errors = sum(n for code, n in outcomes.items() if code.startswith("http_5"))
    broken = state["broken"] + (["5xx responses"] if errors else [])
    if outcomes["bought"] != state["units"]:
        broken.append("201s != units in orders")
    if state["units"] != STOCK:
        broken.append(f"sold {state['units']} of {STOCK}")
    done = sum(n for code, n in outcomes.items() if code != "skipped")
    lat = figures["latencies"]
    print(
        f"[{uri.split(':')[0]}] snap-up rush: {done} attempts at concurrency {CONCURRENCY} against "
        f"stock {STOCK} (gunicorn -w 1 --threads 100, FORUM_ENV=production)\n"
        f"  {done / figures['wall']:.0f} attempts/s over {figures['wall']:.1f} s, "
        f"p50 {percentile(lat, 0.50) * 1000:.1f} ms, p99 {percentile(lat, 0.99) * 1000:.1f} ms\n"
        f"  units sold {state['units']}, stock left {state['stock_left']}, outcomes {dict(outcomes)}\n"
        f"  invariants: {'all held' if not broken else 'BROKEN: ' + ', '.join(broken)}"
    )


if __name__ == "__main__":
    main()
