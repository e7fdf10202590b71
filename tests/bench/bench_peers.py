"""Issue 20's table from one run: FlaskBB 2.2.0 beside Plaza on SQLite and PostgreSQL.

    BENCH_PEERS=/tmp/peers python -m tests.bench peers       (part of ``make bench``)

Needs the peer kit set up as ../shared/peers/README.md says (``$PEERS/flaskbb-venv``,
``flaskbb.sqlite.pristine``) and Debian's ``wrk``; without them it says so and stops.
Every server is measured with the kit's own harness (``$PEERS/bench/httpbench.py``, the
wrk engine, waiting for the server to go idle before each measurement, its CPU metered),
so Plaza and FlaskBB face the same client:

- FlaskBB from its pristine database, served by ``serve_flaskbb.sh`` (gunicorn, 2 sync workers);
- Plaza on the same data shape (``flask bench data``, BENCH_POSTS posts, 20,000 by default,
  as ``bench_board`` builds it; BENCH_REUSE=1 keeps the databases of an earlier run), served by
  gunicorn with 2 sync workers, Redis as the shared page cache;
- per page, interleaved: FlaskBB, Plaza SQLite, Plaza PostgreSQL, BENCH_REPS times (3), at
  c=8 for BENCH_SECONDS (5); the table shows the median req/s, its ratio to FlaskBB, and p50 at
  c=1 from one more run each;
- "post a reply": the kit's ``post_bench.py`` logged in as 8 members, each replying to its own
  thread, on every server in turn.

Absolute figures drift with the machine: quote the ratios, and the load printed beside them.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import bench_board
from tests.bench.common import load_average

FLASKBB_PORT = 8201
PAGES = (
    ("front page", "index"),
    ("category page 1", "forum_p1"),
    ("category page 50", "forum_p50"),
    ("thread, 10 posts", "topic_10posts"),
    ("user profile", "user_profile"),
    ("search werkzeug", "search"),
)


def _kit() -> Path | None:
    peers = os.environ.get("BENCH_PEERS")
    if not peers:
        print("skipped: set BENCH_PEERS to a peer kit set up by setup_flaskbb.sh")
        return None
    kit = Path(peers)
    missing = [
        p
        for p in ("flaskbb-venv/bin/gunicorn", "flaskbb/flaskbb.sqlite.pristine")
        if not (kit / p).exists()
    ]
    if missing or shutil.which("wrk") is None:
        print(f"skipped: the peer kit at {kit} is not set up ({missing or 'no wrk'})")
        return None
    sys.path.insert(0, str(kit / "bench"))
    return kit


def _serve_flaskbb(kit: Path) -> subprocess.Popen:
    """FlaskBB from its pristine database and search index, as run_flaskbb_bench.sh does."""
    folder = kit / "flaskbb"
    shutil.copy(folder / "flaskbb.sqlite.pristine", folder / "flaskbb.sqlite")
    shutil.rmtree(folder / "whoosh_index", ignore_errors=True)
    shutil.copytree(folder / "whoosh_index.pristine", folder / "whoosh_index")
    process = subprocess.Popen(
        ["bash", str(folder / "serve_flaskbb.sh")],
        env={**os.environ, "PEERS": str(kit), "PORT": str(FLASKBB_PORT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    import httpbench

    for _ in range(120):
        try:
            status, _, _ = httpbench.Client(f"http://127.0.0.1:{FLASKBB_PORT}").request("GET", "/")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("FlaskBB did not start")


def _flaskbb_targets(kit: Path) -> dict:
    made = subprocess.run(
        [sys.executable, str(kit / "flaskbb/make_targets.py"), str(kit / "flaskbb/bench_targets.json")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {t["name"]: t for t in json.loads(made)}


def _reply_rps(
    kit: Path, base: str, pid: int, options: list[str], reps: int, seconds: float
) -> float:
    out = Path(tempfile.mkdtemp(prefix="plaza-peers-")) / "replies.jsonl"
    subprocess.run(
        [sys.executable, str(kit / "bench/post_bench.py"), "--base", base, "--concurrency", "8",
         "--reps", str(reps), "--duration", str(seconds), "--engine", "wrk",
         "--server-pid", str(pid), "--out", str(out), *options],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return statistics.median(row["ok_rps"] for row in rows)


def main() -> None:
    kit = _kit()
    if kit is None:
        return
    import httpbench

    posts = int(os.environ.get("BENCH_POSTS", "20000"))
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    reps = int(os.environ.get("BENCH_REPS", "3"))
    folder = Path(tempfile.mkdtemp(prefix="plaza-bench-peers-"))
    flaskbb_targets = _flaskbb_targets(kit)
    processes: list[subprocess.Popen] = []
    servers: dict[str, tuple[str, int, dict]] = {}
    try:
        flaskbb = _serve_flaskbb(kit)
        processes.append(flaskbb)
        flaskbb_base = f"http://127.0.0.1:{FLASKBB_PORT}"
        flaskbb_pid = int((kit / "flaskbb/gunicorn.pid").read_text())
        servers["FlaskBB"] = (flaskbb_base, flaskbb_pid, flaskbb_targets)
        for n, (kind, uri) in enumerate(
            (
                (
                    "Plaza SQLite",
                    os.environ.get("BENCH_SQLITE_URL", f"sqlite:///{folder}/bench.sqlite3"),
                ),
                ("Plaza PostgreSQL", bench_board._pg_url()),
            )
        ):
            data = bench_board.build(uri, posts, folder)
            process = bench_board.gunicorn(uri, 8311 + n, folder)
            processes.append(process)
            paths = data["paths"]
            servers[kind] = (
                f"http://127.0.0.1:{8311 + n}",
                process.pid,
                {name: {"name": name, "path": path} for name, path in paths.items()}
                | {"_data": data},
            )
        print(
            f"{posts:,} posts; gunicorn 2 sync workers each; wrk via the peer kit; {load_average()}"
        )
        names = list(servers)
        print(
            f"{'page (req/s c=8, p50 c=1)':<26}"
            + "".join(f"{n:>30}" for n in names)
            + f"{'PG/SQLite':>11}"
        )
        for label, name in PAGES:
            figures: dict[str, tuple[float, float]] = {}
            rates: dict[str, list[float]] = {n: [] for n in names}
            if any(name not in targets for _, _, targets in servers.values()):
                print(f"{label:<26} (not in every dataset: too few posts)")
                continue
            prepared = {
                n: httpbench.prepare_target(base, targets[name])
                for n, (base, _, targets) in servers.items()
            }
            for n, (base, pid, _) in servers.items():  # both workers warm: the first render is slow
                httpbench.run_one("wrk", base, prepared[n], 4, 2, pid, 30)
            for _ in range(reps):  # interleaved, so each ratio is taken close in time
                for n, (base, pid, _) in servers.items():
                    rates[n].append(
                        httpbench.run_one("wrk", base, prepared[n], 8, seconds, pid, 30)["ok_rps"]
                    )
            for n, (base, pid, _) in servers.items():
                one = httpbench.run_one("wrk", base, prepared[n], 1, seconds, pid, 30)
                figures[n] = (statistics.median(rates[n]), one["p50_ms"])
            _row(label, figures, names)
        replies: dict[str, tuple[float, float]] = {}
        fb_options = ["--targets-json", str(kit / "flaskbb/bench_targets.json")]
        replies["FlaskBB"] = (
            _reply_rps(kit, flaskbb_base, flaskbb_pid, fb_options, reps, seconds),
            float("nan"),
        )
        for n in names[1:]:
            base, pid, targets = servers[n]
            data = targets["_data"]
            options = [
                "--users", ",".join(data["bench_users"][:8]), "--password", data["password"],
                "--topics", ",".join(str(t) for t in data["reply_threads"][:8]),
                "--login-path", "/login", "--login-user-field", "username",
                "--reply-path", "/t/{tid}/reply", "--reply-form-path", "/t/{tid}",
                "--content-field", "body", "--extra-field", "submit=Reply",
            ]  # fmt: skip
            replies[n] = (_reply_rps(kit, base, pid, options, reps, seconds), float("nan"))
        _row("post a reply", replies, names)
        print(f"(after: {load_average()}; FlaskBB search is its POST form, as the kit measures it)")
    finally:
        for process in processes:
            if process.poll() is None:  # each is a gunicorn master (the script execs it)
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


def _row(label: str, figures: dict[str, tuple[float, float]], names: list[str]) -> None:
    base = figures["FlaskBB"][0]
    cells = []
    for n in names:
        rps, p50 = figures[n]
        ratio = f" ({rps / base:4.1f}x)" if n != "FlaskBB" and base else ""
        latency = f", {p50:.1f} ms" if p50 == p50 else ""
        cells.append(f"{rps:.1f}/s{ratio}{latency}")
    sqlite, pg = figures["Plaza SQLite"][0], figures["Plaza PostgreSQL"][0]
    print(
        f"{label:<26}"
        + "".join(f"{c:>30}" for c in cells)
        + f"{pg / sqlite if sqlite else 0:>10.2f}x",
        flush=True,
    )


if __name__ == "__main__":
    main()
