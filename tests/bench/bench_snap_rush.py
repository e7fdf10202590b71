"""Benchmark: a snap-up rush over HTTP against the production server command.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench_snap \\
        python -m tests.bench snap_rush          # the database is emptied first

Fires BENCH_ATTEMPTS buy attempts (default 2,000) from BENCH_CONCURRENCY threads
(default 50) at a snap-up with BENCH_STOCK units (default 100, limit 1 per buyer), over
HTTP with bearer tokens and an Idempotency-Key each. Each of BENCH_BUYERS buyers
(default 1,000) tries twice.

The server is the README's production command, ``gunicorn -w 1 --threads N
'forum:create_app()'`` with FORUM_ENV=production, run as BENCH_PROCESSES processes
(default 2) on their own loopback ports, as the README's deployment runs several behind a
proxy; client thread k talks to process k mod BENCH_PROCESSES (what the proxy's sticky
balancing does with many clients). One process of 100 threads on a small machine is
bound by its one GIL: issue 20's page table also measures with 2 workers. N is
BENCH_THREADS (default 8), each process's database pool BENCH_DB_POOL (default: N,
``max_overflow`` 0), so 2 x 8 connections of PostgreSQL's 100 shared with other
programs. ``BENCH_PROCESSES=1 BENCH_THREADS=100 BENCH_DB_POOL=20`` is the earlier
one-process setup.

The client threads keep one connection each with http.client (BENCH_CLIENT=requests:
requests' sessions, as before, at about three times the client CPU per attempt, taken
from the same cores as the server).

Prints attempts per second, p50/p99 latency (overall and per outcome), when the last
sale was answered, units sold, the server's and this client's CPU per attempt, the
machine's load, and whether any invariant broke (checked in the database: stock never
below zero, exactly the stock sold, nobody over the limit, no 5xx, initial = remaining +
sold + awaiting payment). The server's page cache is Redis (BENCH_REDIS_URL, default
redis://127.0.0.1:6379/0, a fresh key prefix) as in production, which holds the sold-out
marker; BENCH_PAGE_CACHE=0 runs without it. BENCH_LOCK_TIMES=1 also prints how long
transactions held the product and snap-up rows and where the product row's time went
(timed in the server by a gunicorn hook; it adds a little work per statement). Without
BENCH_DATABASE_URL it uses a SQLite file (the figures then say little about production).
"""

import http.client
import json
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
from urllib.parse import urlsplit

import requests

from tests.bench.common import database_uri, load_average, percentile
from tests.e2e.conftest import free_port, wait_until_healthy

ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "50"))
STOCK = int(os.environ.get("BENCH_STOCK", "100"))
BUYERS = int(os.environ.get("BENCH_BUYERS", "1000"))
DEADLINE_SECONDS = float(os.environ.get("BENCH_DEADLINE", "300"))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
POOL = int(os.environ.get("BENCH_DB_POOL", str(THREADS)))
LOCK_TIMES = os.environ.get("BENCH_LOCK_TIMES") == "1"
CLIENT = os.environ.get("BENCH_CLIENT", "http.client")  # or "requests" (as before)
BODY = json.dumps({"quantity": 1})
SERVER = f"{PROCESSES} x gunicorn -w 1 --threads {THREADS}, pool {POOL}"

# A gunicorn config file (BENCH_LOCK_TIMES=1): each worker times how long a transaction
# held the product row (from the return of its stock UPDATE, so not the wait for the lock)
# and the snap-up row (from the return of its stock_left UPDATE, or of the one statement
# of the sale that holds it) until its COMMIT or ROLLBACK returned, and where the product
# row's time went (each statement while it was held, the COMMIT, and the Python between),
# and writes them out when it exits.
LOCK_TIMER = """
import json, os, threading, time

def post_worker_init(worker):
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from forum.extensions import db
    with worker.wsgi.app_context():
        engine = db.engine
    held = worker.lock_times = {"product": [], "snap": [], "steps": {}}
    local = threading.local()

    @event.listens_for(engine, "before_cursor_execute")
    def _sent(conn, cursor, statement, *args):
        state = getattr(local, "state", None)
        if state is not None:
            at = time.perf_counter()
            state["steps"]["python"] = state["steps"].get("python", 0) + at - state["last"]
            state["last"] = at

    @event.listens_for(engine, "after_cursor_execute")  # the row is locked once it returns
    def _returned(conn, cursor, statement, *args):
        at = time.perf_counter()
        state = getattr(local, "state", None)
        if state is not None:
            label = " ".join(statement.split()[:3])[:40]
            state["steps"][label] = state["steps"].get(label, 0) + at - state["last"]
            state["last"] = at
        if statement.startswith("UPDATE shop_products SET stock="):
            if state is None:
                local.state = {"product": at, "last": at, "steps": {}}
        elif statement.startswith(
            ("UPDATE promo_snaps SET stock_left=(promo_snaps.stock_left -", "WITH allowance AS")
        ):
            if state is not None:
                state["snap"] = at

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _ending(conn, *args):
        state = getattr(local, "state", None)
        if state is not None:
            at = time.perf_counter()
            state["steps"]["python"] = state["steps"].get("python", 0) + at - state["last"]
            state["last"] = at

    def _ended(session, *args):
        state = getattr(local, "state", None)
        if state is None:
            return
        local.state = None
        at = time.perf_counter()
        state["steps"]["COMMIT / ROLLBACK"] = at - state["last"]
        held["product"].append(at - state["product"])
        if "snap" in state:
            held["snap"].append(at - state["snap"])
        for step, seconds in state["steps"].items():
            held["steps"][step] = held["steps"].get(step, 0) + seconds

    event.listen(Session, "after_commit", _ended)
    event.listen(Session, "after_rollback", _ended)

def worker_exit(server, worker):
    times = getattr(worker, "lock_times", None)
    if times is not None:
        with open(os.path.join(os.environ["BENCH_LOCK_DIR"], f"{os.getpid()}.json"), "w") as out:
            json.dump(times, out)
"""


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


def serve(uri: str) -> tuple[list[str], list[subprocess.Popen], Path]:
    """The production command, FORUM_ENV=production: PROCESSES gunicorn processes of one
    worker with THREADS threads, each on its own port (as behind a proxy)."""
    logs = Path(tempfile.mkdtemp(prefix="plaza-rush-"))
    env = {
        **os.environ,
        "FORUM_ENV": "production",
        "FORUM_SECRET_KEY": "bench-" + secrets.token_hex(8),
        "FORUM_SQLALCHEMY_DATABASE_URI": uri,
        "FORUM_PAYMENTS_SANDBOX": "false",
        "FORUM_RATELIMIT_ENABLED": "false",
        "FORUM_SQLALCHEMY_ENGINE_OPTIONS": f'{{"pool_size": {POOL}, "max_overflow": 0, "pool_timeout": 60}}',
        "BENCH_LOCK_DIR": str(logs),
    }
    if os.environ.get("BENCH_PAGE_CACHE", "1") != "0":  # Redis, as production: the sold-out marker
        env["FORUM_PAGE_CACHE_REDIS_URL"] = os.environ.get(
            "BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"
        )
        env["FORUM_PAGE_CACHE_PREFIX"] = f"plaza-rush-{os.getpid()}-{time.time_ns()}:"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    config = []
    if LOCK_TIMES:
        (logs / "lock_timer.py").write_text(LOCK_TIMER)
        config = ["-c", str(logs / "lock_timer.py")]
    urls, processes = [], []
    for n in range(PROCESSES):
        port = free_port()
        log = logs / f"gunicorn-{n}.log"
        process = subprocess.Popen(
            [gunicorn, *config, "-w", "1", "--threads", str(THREADS), "-b", f"127.0.0.1:{port}"]
            + ["forum:create_app()"],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        failure = wait_until_healthy(url, process, log)
        if failure is not None:
            for started in processes:
                started.terminate()
            raise RuntimeError(failure)
        urls.append(url)
    return urls, processes, logs


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes and their children used so far (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0.0, list(pids)
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        todo.extend(children.get(pid, ()))
    return total


def rush(urls: list[str], snap_id: int, tokens: list[str]) -> dict:
    plan = [tokens[n % len(tokens)] for n in range(ATTEMPTS)]
    local = threading.local()
    threads = iter(range(10**9))
    stop_at = time.monotonic() + DEADLINE_SECONDS

    def post(token: str) -> tuple[int, bytes]:
        """One attempt over this thread's kept-alive connection (http.client: a fraction of
        requests' CPU, which shares the machine's cores with the server)."""
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": secrets.token_hex(8),
            "Content-Type": "application/json",
        }
        if CLIENT == "requests":
            if getattr(local, "session", None) is None:
                local.session = requests.Session()
            answer = local.session.post(
                f"{local.url}/api/v1/snaps/{snap_id}/buy", data=BODY, headers=headers, timeout=60
            )
            return answer.status_code, answer.content
        for retry in (False, True):  # a connection the server closed: once more (same key)
            if getattr(local, "conn", None) is None:
                local.conn = http.client.HTTPConnection(urlsplit(local.url).netloc, timeout=60)
            try:
                local.conn.request("POST", f"/api/v1/snaps/{snap_id}/buy", BODY, headers)
                answer = local.conn.getresponse()
                return answer.status, answer.read()
            except (ConnectionError, http.client.HTTPException):
                local.conn.close()
                local.conn = None
                if retry:
                    raise
        raise AssertionError("unreachable")

    def attempt(token: str):
        if time.monotonic() > stop_at:
            return None, "skipped"
        if getattr(local, "url", None) is None:
            local.url = urls[next(threads) % len(urls)]
        started = time.perf_counter()
        status, body = post(token)
        elapsed = time.perf_counter() - started
        if status == 201:
            return elapsed, "bought"
        try:
            code = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            code = f"http_{status}"
        return elapsed, code if status < 500 else f"http_{status}"

    latencies, outcomes, by_outcome = [], Counter(), {}
    last_sale, before_last_sale = 0.0, 0
    started, cpu = time.monotonic(), time.process_time()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for future in as_completed([pool.submit(attempt, token) for token in plan]):
            elapsed, outcome = future.result()
            outcomes[outcome] += 1
            if elapsed is not None:
                latencies.append(elapsed)
                by_outcome.setdefault(outcome, []).append(elapsed)
                if outcome == "bought":
                    last_sale = time.monotonic() - started
                    before_last_sale = sum(outcomes.values())
    wall = time.monotonic() - started
    return {
        "wall": wall,
        "latencies": latencies,
        "outcomes": outcomes,
        "by_outcome": by_outcome,
        "last_sale": last_sale,
        "before_last_sale": before_last_sale,
        "client_cpu": time.process_time() - cpu,
    }


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


def lock_times(logs: Path) -> str:
    """Per row, how long transactions held it (BENCH_LOCK_TIMES=1): p50 / p99 / max in ms,
    and the product row's mean time per step."""
    held: dict[str, list[float]] = {"product": [], "snap": []}
    steps: dict[str, float] = {}
    for path in logs.glob("*.json"):
        times = json.loads(path.read_text())
        for row in held:
            held[row].extend(times[row])
        for step, seconds in times["steps"].items():
            steps[step] = steps.get(step, 0) + seconds
    rows = ", ".join(
        f"{row} row held p50 {percentile(times, 0.5) * 1000:.1f} / p99 "
        f"{percentile(times, 0.99) * 1000:.1f} / max {max(times, default=0) * 1000:.1f} ms "
        f"({len(times)} transactions)"
        for row, times in held.items()
    )
    count = max(len(held["product"]), 1)
    where = ", ".join(
        f"{step} {seconds / count * 1000:.1f}"
        for step, seconds in sorted(steps.items(), key=lambda item: -item[1])
    )
    return f"{rows}\n  the product row's time, mean ms per transaction: {where}"


def main() -> None:
    uri = database_uri()
    product_id, snap_id, tokens = build(uri)
    urls, processes, logs = serve(uri)
    try:
        cpu_before = process_cpu([p.pid for p in processes])
        figures = rush(urls, snap_id, tokens)
        server_cpu = process_cpu([p.pid for p in processes]) - cpu_before
        load = load_average()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
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
        f"stock {STOCK} ({SERVER}, FORUM_ENV=production)\n"
        f"  {done / figures['wall']:.0f} attempts/s over {figures['wall']:.1f} s, "
        f"p50 {percentile(lat, 0.50) * 1000:.1f} ms, p99 {percentile(lat, 0.99) * 1000:.1f} ms\n"
        f"  CPU per attempt: server {server_cpu / max(done, 1) * 1000:.2f} ms, "
        f"client {figures['client_cpu'] / max(done, 1) * 1000:.2f} ms; {load}\n"
        f"  units sold {state['units']}, stock left {state['stock_left']}, outcomes {dict(outcomes)}\n"
        f"  p50 / p99 ms by outcome: "
        + ", ".join(
            f"{code} {percentile(times, 0.5) * 1000:.0f} / {percentile(times, 0.99) * 1000:.0f}"
            for code, times in sorted(figures["by_outcome"].items())
        )
        + f"; the last sale answered at {figures['last_sale']:.2f} s, attempt "
        f"{figures['before_last_sale']} of {done}\n"
        + (f"  {lock_times(logs)}\n" if LOCK_TIMES else "")
        + f"  invariants: {'all held' if not broken else 'BROKEN: ' + ', '.join(broken)}"
    )


if __name__ == "__main__":
    main()
