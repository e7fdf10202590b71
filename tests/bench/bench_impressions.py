"""What counting widget impressions costs a thread page: counting on vs off.

A thread page of 20 posts, each holding an ``[[event:ID]]`` card sponsored by a
merchant (so every card is a tracked offer), served by a real server process.
Three loads per server:

- ``off``: ATTRIBUTION_IMPRESSIONS_ENABLED=false;
- ``on, same viewer``: counting on, the readers were already counted today
  (the common case: one seen-set statement, no counter update);
- ``on, new viewer``: counting on, every request a viewer not seen before
  (worst case: the seen-set insert and the 20-row counter upsert each time).

With Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/14, skipped when
unreachable) the seen-set runs there too.

    python -m tests.bench impressions   (BENCH_DATABASE_URL=postgresql+psycopg://... for PostgreSQL;
                                         BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONCURRENCY)

The servers run side by side and the loads are interleaved in rounds, so the
background load of a shared machine falls on every variant alike.
"""

import itertools
import os
import threading
import time
from datetime import timedelta

import requests

from tests.bench.common import database_uri, percentile, serve

WIDGETS = 20
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36 bench"


def build(uri: str) -> int:
    from forum import create_app
    from forum.accounts import service as accounts
    from forum.board import service as board
    from forum.clock import now
    from forum.events import service as events
    from forum.extensions import db

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
        admin = accounts.register(
            "benchadmin", "bench@example.com", "bench passphrase kept", role="admin"
        )
        merchant = accounts.register(
            "benchshop", "shop@example.com", "bench passphrase kept", role="merchant"
        )
        category = board.create_category(admin, "bench", "Bench")
        starts = now() + timedelta(days=5)
        ids = [
            events.create_event(
                admin,
                title=f"Tasting night {n}",
                description="Come hungry.",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                location="Market hall",
                capacity=50,
                sponsor_id=merchant.id,
            ).id
            for n in range(WIDGETS)
        ]
        thread = board.create_thread(
            admin, category, "Twenty widgets", f"Look:\n\n[[event:{ids[0]}]]"
        )
        for event_id in ids[1:]:
            board.reply(admin, thread, f"And this one:\n\n[[event:{event_id}]]")
        db.session.commit()
        thread_id = thread.id
        db.engine.dispose()
    return thread_id


class NewViewerSession(requests.Session):
    """Every request looks like a reader never seen before (its own user agent)."""

    counter = itertools.count()

    def request(self, method, url, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers["User-Agent"] = f"{BROWSER} viewer-{next(self.counter)}"
        return super().request(method, url, headers=headers, **kwargs)


class SameViewerSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.headers["User-Agent"] = BROWSER


def _redis_url() -> str | None:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        client.flushdb()
        return url
    except Exception:  # noqa: BLE001 (no Redis: that variant is skipped)
        return None


def _load(
    url: str, session_factory, *, concurrency: int, seconds: float
) -> tuple[list[float], float, int]:
    """GET ``url`` from ``concurrency`` threads for ``seconds``: (latencies, elapsed, errors)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker():
        nonlocal errors
        session = session_factory()
        local, bad = [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = session.get(url, timeout=60)
            local.append(time.perf_counter() - started)
            bad += response.status_code != 200
        with lock:
            latencies.extend(local)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.monotonic() - began, errors


def in_process(uri: str, thread_id: int, pages: int) -> None:
    """One thread, no HTTP: page times with counting off / on, interleaved request by request."""
    import statistics

    from forum import create_app

    config = {
        "SQLALCHEMY_DATABASE_URI": uri,
        "ENV": "testing",
        "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": False,
    }
    clients = {
        "off": create_app({**config, "ATTRIBUTION_IMPRESSIONS_ENABLED": False}).test_client(),
        "on": create_app({**config, "ATTRIBUTION_IMPRESSIONS_ENABLED": True}).test_client(),
    }
    modes = [
        ("off", "off", False),
        ("on, same viewer", "on", False),
        ("on, new viewer", "on", True),
    ]
    times: dict[str, list[float]] = {label: [] for label, _, _ in modes}
    for n in range(pages + 5):
        for label, name, new in modes:
            agent = f"{BROWSER} inproc-{n}" if new else BROWSER
            started = time.perf_counter()
            response = clients[name].get(f"/t/{thread_id}", headers={"User-Agent": agent})
            elapsed = time.perf_counter() - started
            assert response.status_code == 200
            if n >= 5:
                times[label].append(elapsed)
    base = statistics.median(times["off"]) * 1000
    print(f"in process, one thread, {pages} pages each, interleaved:")
    for label, values in times.items():
        median = statistics.median(values) * 1000
        extra = "" if label == "off" else f"  ({median - base:+.2f} ms, {median / base:.3f}x)"
        print(f"{label:>24}: median {median:6.2f} ms/page{extra}")


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "4"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "4"))
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "8"))
    uri = database_uri()
    thread_id = build(uri)
    in_process(uri, thread_id, int(os.environ.get("BENCH_PAGES", "150")))
    redis_url = _redis_url()
    servers = {
        "off": serve(uri, {"FORUM_ATTRIBUTION_IMPRESSIONS_ENABLED": "false"}),
        "on": serve(uri, {"FORUM_ATTRIBUTION_IMPRESSIONS_ENABLED": "true"}),
    }
    if redis_url:
        servers["on+redis"] = serve(
            uri,
            {
                "FORUM_ATTRIBUTION_IMPRESSIONS_ENABLED": "true",
                "FORUM_ATTRIBUTION_REDIS_URL": redis_url,
            },
        )
    loads = [("off", "off", SameViewerSession)]
    for name in servers:
        if name != "off":
            loads += [
                (f"{name}, same viewer", name, SameViewerSession),
                (f"{name}, new viewer", name, NewViewerSession),
            ]
    print(
        f"thread page with {WIDGETS} posts, each a tracked widget; {concurrency} clients; {rounds} interleaved "
        f"rounds of {seconds:g} s per load (the machine's background load hits all alike); {uri.split(':')[0]}"
    )
    collected = {label: ([], 0.0, 0) for label, _, _ in loads}
    try:
        for server in servers.values():
            warm = SameViewerSession()
            for _ in range(5):
                assert warm.get(server(f"/t/{thread_id}"), timeout=60).status_code == 200
        for _ in range(rounds):
            for label, name, session in loads:
                latencies, elapsed, errors = _load(
                    servers[name](f"/t/{thread_id}"),
                    session,
                    concurrency=concurrency,
                    seconds=seconds,
                )
                all_latencies, total, bad = collected[label]
                collected[label] = (all_latencies + latencies, total + elapsed, bad + errors)
    finally:
        for server in servers.values():
            server.stop()
    figures = {}
    for label, (latencies, elapsed, errors) in collected.items():
        figures[label] = {
            "rps": len(latencies) / elapsed,
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "errors": errors,
        }
        print(
            f"{label:>24}: {figures[label]['rps']:7.1f} req/s  p50 {figures[label]['p50_ms']:6.1f} ms  "
            f"p99 {figures[label]['p99_ms']:6.1f} ms  errors {errors}",
            flush=True,
        )
    base = figures["off"]
    for label, item in figures.items():
        if label != "off":
            print(
                f"{label:>24}: ratio on/off {item['rps'] / base['rps']:.2f} (requests/s), "
                f"p99 {item['p99_ms'] - base['p99_ms']:+.1f} ms"
            )


if __name__ == "__main__":
    main()
