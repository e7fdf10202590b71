"""Where one snap-up attempt's CPU goes: statements and a profile of ``POST /api/v1/snaps/<id>/buy``.

    PLAZA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/0 \\
        python -m tests.bench.profile_snap [refusal|holder|sale] [--profile | --cpu]

One attempt at a time through the test client with a bearer token and an Idempotency-Key,
as bench_snap_rush sends them:

- ``refusal``: a buyer with nothing after the sell-out (the sold-out marker is set): 409 ``sold_out``;
- ``holder``: a buyer who holds the unit they bought tries again: 409 ``limit_reached``;
- ``sale``: a new buyer each time at a snap-up with stock to spare: 201.

Prints the statements of one attempt and this process's CPU per attempt (process time,
not wall time: it holds on a loaded machine); ``--profile`` adds a pyinstrument profile,
``--cpu`` a cProfile. The page cache (which holds the marker) is Redis at BENCH_REDIS_URL
under a fresh key prefix, as in production (without it an in-process SimpleCache). The
database is emptied. Not a ``bench_`` module: ``make bench`` does not run it.
"""

import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta

from sqlalchemy import event, insert

RUNS = int(os.environ.get("BENCH_PROFILE_RUNS", "300"))


def make_app():
    from forum import create_app
    from forum.extensions import db

    url = os.environ.get("PLAZA_BENCH_DATABASE_URL") or os.environ.get("BENCH_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='plaza-bench-')}/bench.sqlite3"
    config = {
        "ENV": "testing",
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "PAYMENTS_SANDBOX": False,
    }
    redis = os.environ.get("BENCH_REDIS_URL")
    if redis:
        config["PAGE_CACHE_REDIS_URL"] = redis
        config["PAGE_CACHE_PREFIX"] = f"plaza-profile-snap-{os.getpid()}-{time.time_ns()}:"
    app = create_app(config)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app, url.split(":", 1)[0]


def setup(app, buyers: int, stock: int) -> tuple[int, list[str]]:
    """A shop, a running snap-up of ``stock`` units (limit 1) and ``buyers`` members' tokens."""
    from forum.accounts import service as accounts
    from forum.accounts.models import User
    from forum.clock import now
    from forum.extensions import db
    from forum.promotions import service as promotions
    from forum.shop_embed import service as shop

    with app.app_context(), app.test_request_context("/"):
        seller = accounts.register(
            "snap_shop", "snap@bench.example", "bench passphrase kept", role="merchant"
        )
        shop.save_merchant_profile(seller, name="Snap Shop", slug="snap", logo_initials="SS")
        product = shop.create_product(seller, name="Sneakers", price_cents=19900, stock=stock * 3)
        snap = promotions.create_snap(
            seller,
            product_id=product.id,
            price_cents=9900,
            stock=stock,
            per_user_limit=1,
            starts_at=now() - timedelta(seconds=5),
            ends_at=now() + timedelta(hours=1),
        )
        db.session.execute(
            insert(User),
            [
                {
                    "username": f"snapper{n:05d}",
                    "username_key": f"snapper{n:05d}",
                    "email": f"snapper{n}@bench.example",
                    "password_hash": "x",
                }
                for n in range(buyers)
            ],
        )
        users = db.session.scalars(
            db.select(User).where(User.username.like("snapper%")).order_by(User.id)
        ).all()
        tokens = [accounts.issue_token(user) for user in users]
        db.session.commit()
        return snap.id, tokens


def main(argv: list[str]) -> None:
    from forum.extensions import db
    from tests.bench.common import print_one_call, timed_runs

    mode = next((m for m in ("refusal", "holder", "sale") if m in argv), "refusal")
    app, dialect = make_app()
    stock = RUNS + 20 if mode == "sale" else 1
    snap_id, tokens = setup(app, RUNS + 30, stock)
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        # Where the transaction ends, among them (a sale's row locks are held until then).
        event.listen(db.engine, "commit", lambda *a: statements.append("-- COMMIT"))
    client = app.test_client()
    url = f"/api/v1/snaps/{snap_id}/buy"

    def attempt(token: str, expect: int, code: str | None = None) -> None:
        answer = client.post(
            url,
            json={"quantity": 1},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(8)},
        )
        assert answer.status_code == expect, answer.get_json()
        if code is not None:
            assert answer.get_json()["error"]["code"] == code, answer.get_json()

    holder, others = tokens[0], iter(tokens[1:])
    attempt(holder, 201)  # the first buyer (in ``sale``, one of many)
    if mode == "sale":

        def once() -> None:
            attempt(next(others), 201)
    elif mode == "holder":

        def once() -> None:
            attempt(holder, 409, "limit_reached")

        attempt(next(others), 409, "sold_out")  # reads the stock, marks the sell-out
    else:
        pool = list(others)
        turn = iter(range(10**9))

        def once() -> None:
            attempt(pool[next(turn) % len(pool)], 409, "sold_out")

        once()  # reads the stock, marks the sell-out
    for _ in range(3):
        once()
    print_one_call(once, statements, f"[{dialect}] {mode}: one attempt")
    cpu, wall = timed_runs(once, RUNS, argv)
    print(
        f"[{dialect}] {mode}: {cpu * 1000:.2f} ms CPU per attempt "
        f"({wall * 1000:.2f} ms wall, {RUNS} attempts one at a time, "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
