"""Where one checkout's CPU goes: statements and a profile of place + pay, one buyer at a time.

    PLAZA_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench \\
        python -m tests.bench.profile_checkout [service|api] [--profile | --cpu]

Places and pays ``BENCH_PROFILE_RUNS`` (200) orders of a returning buyer, either through
the service (``place_order`` + ``pay``, a commit after each, as the two requests do) or
through the API (``POST /api/v1/orders`` then ``POST /api/v1/orders/<id>/pay`` with a
token). Prints the statements of one order and this process's CPU per order (process
time, not wall time: it holds on a loaded machine); ``--profile`` adds a pyinstrument
profile (wall time), ``--cpu`` a cProfile of CPU time and the Python function calls per
place+pay (a count, the same on a busy machine as on an idle one). The database is emptied. Not a ``bench_`` module: ``make bench`` does not run it.
"""

import os
import sys

from sqlalchemy import event

from tests.bench.bench_shop_orders import ADDRESS, make_app, setup
from tests.bench.common import print_one_call, timed_runs


def main(argv: list[str]) -> None:
    from forum.accounts import service as accounts
    from forum.accounts.models import User
    from forum.extensions import db
    from forum.shop_embed import service

    mode = "api" if "api" in argv else "service"
    runs = int(os.environ.get("BENCH_PROFILE_RUNS", "200"))
    app, dialect = make_app()
    plenty, _hot, buyers = setup(app)
    buyer_id = buyers[0]
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        token = accounts.issue_token(db.session.get(User, buyer_id))
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def by_service() -> None:
        with app.app_context(), app.test_request_context("/"):
            user = db.session.get(User, buyer_id)
            order, _ = service.place_order(user, [(plenty, 1)], shipping_address=ADDRESS)
            order_id = order.id
            db.session.commit()
        with app.app_context(), app.test_request_context("/"):
            user = db.session.get(User, buyer_id)
            service.pay(user, service.find_order(order_id), "sandbox")
            db.session.commit()

    def by_api() -> None:
        body = {"items": [{"product_id": plenty, "quantity": 1}], "shipping_address": ADDRESS}
        placed = client.post("/api/v1/orders", json=body, headers=headers)
        assert placed.status_code == 201, placed.get_json()
        paid = client.post(
            f"/api/v1/orders/{placed.get_json()['id']}/pay",
            json={"provider": "sandbox"},
            headers=headers,
        )
        assert paid.status_code == 200, paid.get_json()

    once = by_api if mode == "api" else by_service
    for _ in range(3):  # the first purchase writes more (tier rows, wallet); warm caches
        once()
    print_one_call(once, statements, f"[{dialect}] {mode}: one place+pay")
    cpu, wall = timed_runs(once, runs, argv)
    print(
        f"[{dialect}] {mode}: {cpu * 1000:.2f} ms CPU per place+pay "
        f"({wall * 1000:.2f} ms wall, one buyer, {runs} orders, "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
