"""The board's pages beside FlaskBB: req/s at c=8 and p50 at c=1, one table.

python -m tests.bench board      (part of ``make bench``)

Builds the peer kit's dataset (``flask bench data``, BENCH_POSTS posts, 20,000 by default)
on SQLite and on PostgreSQL (BENCH_PG_URL, default database ``plaza_bench`` on
127.0.0.1, created when missing; BENCH_REUSE=1 keeps an already filled one; BENCH_PG_TARGETS=targets.json of ``flask bench data
--targets`` uses that database as it is: the scale runs; BENCH_SQLITE_URL and
BENCH_SQLITE_TARGETS the same for SQLite), serves each
with gunicorn and 2 sync workers as the peer kit serves FlaskBB, and measures the same
pages: front page, category page 1 and deep pages (the peer's pages of 10: page 50, 500),
a thread of 10 posts, a member's profile, search. Anonymous readers, so the cached lists
serve; BENCH_PAGE_CACHE=0 measures the work under them. With BENCH_FLASKBB_URL (a FlaskBB
served by ``$PEERS/flaskbb/serve_flaskbb.sh``) and BENCH_FLASKBB_TARGETS (its
bench_targets.json), FlaskBB is measured in the same run, interleaved per page, and the
ratios printed. BENCH_SECONDS per measurement (5), BENCH_DATABASES=sqlite,postgresql.
Figures are only comparable within one run on one machine.
"""

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.bench.common import hammer, wrk

PAGES = (
    ("front page", "index"),
    ("category page 1", "forum_p1"),
    ("category page 50", "forum_p50"),
    ("category page 500", "forum_p500"),
    ("thread, 10 posts", "topic_10posts"),
    ("user profile", "user_profile"),
    ("search werkzeug", "search"),
)
FLASKBB_PATHS = {"search": None}  # FlaskBB's search is a POST form: post_bench/httpbench


def _env(uri: str) -> dict:
    env = {
        **os.environ,
        "FORUM_ENV": "testing",
        "FORUM_SECRET_KEY": "bench",
        "FORUM_SQLALCHEMY_DATABASE_URI": uri,
        "FORUM_RATELIMIT_ENABLED": "false",
        "FORUM_SESSION_COOKIE_SECURE": "false",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    if os.environ.get("BENCH_PAGE_CACHE", "1") == "0":
        env["FORUM_PAGE_CACHE_TYPE"] = "NullCache"
    elif _redis_up():  # one cache for both workers, as in production
        env["FORUM_PAGE_CACHE_REDIS_URL"] = "redis://127.0.0.1:6379/0"
        env["FORUM_PAGE_CACHE_PREFIX"] = f"plaza-bench-{os.getpid()}-{time.time_ns()}:"
    return env


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis(socket_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def _pg_url() -> str:
    url = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/plaza_bench")
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


def build(uri: str, posts: int, folder: Path) -> dict:
    # A database `flask bench data --targets` filled before, used as it is.
    given = os.environ.get(
        "BENCH_PG_TARGETS" if uri.startswith("postgresql") else "BENCH_SQLITE_TARGETS"
    )
    if given:
        return json.loads(Path(given).read_text())
    targets = folder / "targets.json"
    # hashlib, not hash(): str hashes change with every interpreter, so nothing was reused.
    digest = hashlib.sha256(uri.encode()).hexdigest()[:16]
    saved = Path(f"/tmp/plaza-bench-targets-{digest}-{posts}.json")
    if os.environ.get("BENCH_REUSE") == "1" and saved.exists():
        return json.loads(saved.read_text())
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "forum", "bench", "data", "--reset",
         "--posts", str(posts), "--targets", str(targets)],
        env=_env(uri), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    saved.write_text(targets.read_text())
    return json.loads(targets.read_text())


def gunicorn(uri: str, port: int, folder: Path):
    log = (folder / f"gunicorn-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
         "--timeout", "60", "forum:create_app()"],
        env=_env(uri), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 300  # a loaded machine boots slowly
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"gunicorn did not start: {log.name}")


def measure(base: str, path: str, seconds: float) -> tuple[float, float, int]:
    """(p50 ms at c=1, req/s at c=8, errors)."""
    url = base + path
    hammer([url], concurrency=2, seconds=1)  # warm both workers
    one = wrk(url, concurrency=1, seconds=seconds) or hammer([url], concurrency=1, seconds=seconds)
    eight = wrk(url, concurrency=8, seconds=seconds) or hammer(
        [url], concurrency=8, seconds=seconds
    )
    return one["p50_ms"], eight["rps"], one["errors"] + eight["errors"]


def main() -> None:
    posts = int(os.environ.get("BENCH_POSTS", "20000"))
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    kinds = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
    folder = Path(tempfile.mkdtemp(prefix="plaza-bench-board-"))
    servers: dict[str, tuple[str, dict]] = {}
    processes = []
    flaskbb_url = os.environ.get("BENCH_FLASKBB_URL")
    flaskbb_paths: dict = {}
    if flaskbb_url and os.environ.get("BENCH_FLASKBB_TARGETS"):
        flaskbb_paths = json.loads(Path(os.environ["BENCH_FLASKBB_TARGETS"]).read_text())["paths"]
    try:
        for n, kind in enumerate(kinds):
            uri = (
                os.environ.get("BENCH_SQLITE_URL", f"sqlite:///{folder}/bench.sqlite3")
                if kind == "sqlite"
                else _pg_url()
            )
            started = time.perf_counter()
            targets = build(uri, posts, folder)
            print(f"{kind}: {posts:,} posts ready in {time.perf_counter() - started:.0f} s")
            port = 8301 + n
            processes.append(gunicorn(uri, port, folder))
            servers[kind] = (f"http://127.0.0.1:{port}", targets["paths"])
        cache = "off" if os.environ.get("BENCH_PAGE_CACHE", "1") == "0" else "on"
        print(f"\n{posts:,} posts, gunicorn 2 sync workers, anonymous, page cache {cache}")
        columns = (["FlaskBB"] if flaskbb_paths else []) + [f"Plaza {k}" for k in kinds]
        print(f"{'page':<20}" + "".join(f"{c:>26}" for c in columns))
        print(f"{'':<20}" + "".join(f"{'p50 c=1 / req/s c=8':>26}" for _ in columns))
        for label, name in PAGES:
            cells, flaskbb_rps = [], None
            # Interleaved per page: FlaskBB, then each Plaza, close in time.
            fb_path = flaskbb_paths.get(name) if name not in FLASKBB_PATHS else None
            if flaskbb_paths:
                if fb_path:
                    p50, rps, errors = measure(flaskbb_url, fb_path, seconds)
                    flaskbb_rps = rps
                    cells.append(f"{p50:7.1f} ms {rps:7.1f}/s" + (f" E{errors}" if errors else ""))
                else:
                    cells.append("-")
            for kind in kinds:
                base, paths = servers[kind]
                if name not in paths:
                    cells.append("(no such page)")
                    continue
                p50, rps, errors = measure(base, paths[name], seconds)
                ratio = f" {rps / flaskbb_rps:4.1f}x" if flaskbb_rps else ""
                cells.append(
                    f"{p50:6.1f} ms {rps:6.1f}/s{ratio}" + (f" E{errors}" if errors else "")
                )
            print(f"{label:<20}" + "".join(f"{c:>26}" for c in cells), flush=True)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
