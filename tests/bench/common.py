"""Shared pieces of the benchmarks: a throwaway database, a server process, a load loop."""

import os
import re
import shutil
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


def load_average() -> str:
    """The machine's 1/5/15-minute load, printed beside each figure: on a shared machine
    a figure means little without it."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def database_uri() -> str:
    """BENCH_DATABASE_URL, or a fresh SQLite file."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    path = Path(tempfile.mkdtemp(prefix="plaza-bench-")) / "bench.sqlite3"
    return f"sqlite:///{path}"


def serve(uri: str, extra_env: dict | None = None):
    return start_server(uri, Path(tempfile.mkdtemp(prefix="plaza-bench-srv-")), extra_env)


def get_ok(session: requests.Session, url: str) -> bool:
    return session.get(url, timeout=30).status_code == 200


def hammer(
    urls: list[str],
    *,
    concurrency: int,
    seconds: float,
    session_factory=requests.Session,
    fetch=get_ok,
) -> dict:
    """``fetch(session, url)`` (by default a GET answered 200) the urls round-robin from
    ``concurrency`` threads for ``seconds``; return figures (a fetch that answers False
    counts as an error). Every thread makes its session (a sign-in, say) before the
    clock starts, so the figures are of the fetches only."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    clock = {"started": 0.0, "stop_at": 0.0}

    def start_clock() -> None:
        clock["started"] = time.monotonic()
        clock["stop_at"] = clock["started"] + seconds

    ready = threading.Barrier(concurrency, action=start_clock)

    def worker(offset: int):
        nonlocal errors
        session = session_factory()
        ready.wait()
        stop_at = clock["stop_at"]
        index = offset
        local, bad = [], 0
        while time.monotonic() < stop_at:
            url = urls[index % len(urls)]
            index += 1
            start = time.perf_counter()
            ok = fetch(session, url)
            local.append(time.perf_counter() - start)
            bad += not ok
        with lock:
            latencies.extend(local)
            errors += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - clock["started"]
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else float("nan"),
    }


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, *, concurrency: int, seconds: float) -> dict | None:
    """GET ``url`` from ``concurrency`` connections with Debian's wrk (one thread), the peer
    kit's engine: a C client takes far less of the shared cores than Python threads, so a fast
    page is not capped by the load generator. None when wrk is not installed (or
    BENCH_ENGINE=python): the caller falls back to ``hammer``."""
    if os.environ.get("BENCH_ENGINE") == "python" or shutil.which("wrk") is None:
        return None
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(found.group(1)) * WRK_UNITS[found.group(2)] if found else float("nan")

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, failed.groups())) if failed else 0)
    return {"rps": rps, "p50_ms": latency("50"), "p99_ms": latency("99"), "errors": errors}


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


def timed_runs(once, runs: int, argv: list[str]) -> tuple[float, float]:
    """Call ``once`` ``runs`` times; (CPU seconds of this process, wall seconds) per call.
    ``--cpu`` in ``argv`` prints a cProfile of CPU time and the Python function calls per
    call (a count that a loaded machine does not change), ``--profile`` a pyinstrument one."""
    profiler = None
    if "--cpu" in argv:  # where the CPU goes (cProfile on CPU time, not wall time)
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    elif "--profile" in argv:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(runs):
        once()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if "--cpu" in argv:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler).strip_dirs().sort_stats("cumulative")
        stats.print_stats(int(os.environ.get("BENCH_PROFILE_LINES", "80")))
        # A count, not a time: the same on a loaded machine as on an idle one.
        print(f"{stats.total_calls / runs:.0f} Python function calls per call")
    elif profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return cpu / runs, wall / runs


def print_one_call(once, statements: list[str], label: str) -> None:
    """Run ``once`` again, printing the SQL statements it sent (``statements`` is the
    list a ``before_cursor_execute`` listener appends to)."""
    statements.clear()
    once()
    print(f"{label}: {len(statements)} SQL statements")
    for sql in statements:
        print("  ", " ".join(sql.split())[:150])
