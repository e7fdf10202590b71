"""Shared pieces of the benchmarks: a throwaway database, a server process, a load loop."""

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from tests.e2e.conftest import start_server


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def database_uri() -> str:
    """BENCH_DATABASE_URL, or a fresh SQLite file."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    path = Path(tempfile.mkdtemp(prefix="plaza-bench-")) / "bench.sqlite3"
    return f"sqlite:///{path}"


def serve(uri: str, extra_env: dict | None = None):
    return start_server(uri, Path(tempfile.mkdtemp(prefix="plaza-bench-srv-")), extra_env)


def hammer(
    urls: list[str], *, concurrency: int, seconds: float, session_factory=requests.Session
) -> dict:
    """GET the urls round-robin from ``concurrency`` threads for ``seconds``; return figures."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(offset: int):
        nonlocal errors
        session = session_factory()
        index = offset
        local, bad = [], 0
        while time.monotonic() < stop_at:
            url = urls[index % len(urls)]
            index += 1
            start = time.perf_counter()
            response = session.get(url, timeout=30)
            local.append(time.perf_counter() - start)
            bad += response.status_code != 200
        with lock:
            latencies.extend(local)
            errors += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


def run_flask(args: list[str], uri: str) -> None:
    env = {
        **os.environ,
        "FORUM_SQLALCHEMY_DATABASE_URI": uri,
        "FORUM_ENV": "testing",
        "FORUM_SECRET_KEY": "bench",
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "forum", *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
