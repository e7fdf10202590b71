"""A thread page with a Dutch auction, a guessing game and a ladder group-buy embedded vs the
same page without them: the overhead of the three live widgets (target: at most 10%).

python -m tests.bench games      (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)

Two figures: CPU milliseconds per page in process (the test client, both pages
alternated in rounds, the best round of each: the work itself, steady on a machine shared
with other load), then req/s and latency over HTTP at concurrency 8 (what a server
gives, noisy when the machine is busy). BENCH_ROUNDS (10) x BENCH_ROUND_PAGES (30).
"""

import os
import time
from datetime import timedelta

from tests.bench.common import database_uri, hammer, serve


def build(uri: str, posts: int) -> tuple[int, int]:
    from forum import create_app
    from forum.accounts import service as accounts
    from forum.board import service as board
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
            "PAYMENTS_SANDBOX": True,
        }
    )
    with app.app_context(), app.test_request_context("/"):
        db.drop_all()
        db.create_all()
        admin = accounts.register(
            "benchadmin", "bench@example.com", "bench passphrase kept", role="admin"
        )
        seller = accounts.register(
            "benchshop", "shop@example.com", "bench passphrase kept", role="merchant"
        )
        shop.save_merchant_profile(
            seller, name="Bench Shop", slug="bench", logo_initials="BS", shipping_fee_cents=0
        )
        product = shop.create_product(
            seller, name="Bench shoes", description="Fast.", price_cents=8900, stock=500
        )
        at = now()
        auction = promotions.create_auction(
            seller,
            product_id=product.id,
            units=5,
            start_price_cents=8000,
            floor_price_cents=4000,
            drop_cents=100,
            drop_every_seconds=60,
            starts_at=at - timedelta(minutes=5),
            per_user_limit=1,
        )
        game = promotions.create_game(
            seller,
            product_id=product.id,
            market_price_cents=8900,
            points_per_guess=0,
            max_guesses_per_user=3,
            ends_at=at + timedelta(days=1),
        )
        ladder = promotions.create_group_buy(
            seller,
            product_id=product.id,
            group_price_cents=None,
            team_size=None,
            team_window_minutes=600,
            ends_at=at + timedelta(days=2),
            steps=[
                {"team_size": 2, "price_cents": 7000},
                {"team_size": 3, "price_cents": 6000},
                {"team_size": 5, "price_cents": 5000},
            ],
        )
        members = [
            accounts.register(f"fan{n}", f"fan{n}@example.com", "bench passphrase kept")
            for n in range(3)
        ]
        team, _ = promotions.start_team(members[0], ladder)
        promotions.join_team(members[1], team)
        promotions.take(members[2], auction)
        for n, member in enumerate(members):
            promotions.submit_guess(member, game, 100 + n)
        category = board.create_category(admin, "bench", "Bench")
        ids = []
        for title, first in (
            ("Without widgets", "Look at these deals, no widgets here."),
            (
                "With widgets",
                f"[[auction:{auction.id}]]\n\n[[guess:{game.id}]]\n\n[[groupbuy:{ladder.id}]]",
            ),
        ):
            thread = board.create_thread(admin, category, title, first)
            for n in range(2, posts + 1):
                board.reply(admin, thread, f"post {n} with **some** _markdown_")
            ids.append(thread.id)
        db.session.commit()
        db.engine.dispose()
    return ids[0], ids[1]


def cpu_per_page(uri: str, paths: dict[str, str]) -> dict[str, float]:
    """CPU ms per GET of each path in this process: rounds alternate the paths, best round."""
    from sqlalchemy import event

    from forum import create_app
    from forum.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": uri,
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
        }
    )
    rounds = int(os.environ.get("BENCH_ROUNDS", "10"))
    pages = int(os.environ.get("BENCH_ROUND_PAGES", "30"))
    client = app.test_client()
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    best = {label: float("inf") for label in paths}
    for label, path in paths.items():
        for _ in range(3):
            assert client.get(path).status_code == 200, path  # warm: templates, shells
        statements.clear()
        client.get(path)
        print(f"{label:>16}: {len(statements)} SQL statements per page")
    for _ in range(rounds):
        for label, path in paths.items():
            started = time.process_time()
            for _ in range(pages):
                client.get(path)
            best[label] = min(best[label], (time.process_time() - started) / pages * 1000)
    return best


def main() -> None:
    posts = int(os.environ.get("BENCH_POSTS", "20"))
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    uri = database_uri()
    plain, widgets = build(uri, posts)
    cpu = cpu_per_page(uri, {"without widgets": f"/t/{plain}", "with 3 widgets": f"/t/{widgets}"})
    base_ms, loaded_ms = cpu["without widgets"], cpu["with 3 widgets"]
    print(
        f"in process: {base_ms:.2f} ms/page without, {loaded_ms:.2f} ms/page with 3 widgets: "
        f"{(loaded_ms / base_ms - 1) * 100:+.1f}% CPU per page (target <= 10%; "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    server = serve(uri)
    try:
        results = {}
        for label, thread_id in (("without widgets", plain), ("with 3 widgets", widgets)):
            figures = hammer([server(f"/t/{thread_id}")], concurrency=8, seconds=seconds)
            results[label] = figures
            print(
                f"{label:>16}: {figures['rps']:7.1f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
                f"p99 {figures['p99_ms']:6.1f} ms  errors {figures['errors']}  ({uri.split(':')[0]})"
            )
        base, loaded = results["without widgets"], results["with 3 widgets"]
        overhead = (base["rps"] / loaded["rps"] - 1) * 100 if loaded["rps"] else float("inf")
        p50 = (loaded["p50_ms"] / base["p50_ms"] - 1) * 100 if base["p50_ms"] else float("inf")
        print(
            f"overhead: {overhead:+.1f}% time per request (throughput), {p50:+.1f}% p50 (target <= 10%)"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
