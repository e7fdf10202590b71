"""Worst rendering time over the pathological Markdown corpus, before and after.

python -m tests.bench markup

"After" is ``forum.markup.render`` (markdown-it-py -> nh3 -> embeds) on every case of
tests/board/pathological_markdown.py at POST_MAX_LENGTH, best of three runs each,
beside an ordinary 50,000-character post for scale. "Before" is the old pipeline
(Python-Markdown with fenced_code, tables, sane_lists, nl2br -> nh3) when the
``markdown`` package is still installed: each case runs in its own process with a
time limit (BENCH_MARKUP_TIMEOUT seconds, default 5) at each size of
BENCH_MARKUP_OLD_SIZES (default "5000,50000"), so the bench finishes.
"""

import os
import subprocess
import sys
import time

from tests.board.pathological_markdown import CASES

BENIGN = (
    "Some **bold** text with a [link](https://example.com) and `code` and *em*, "
    "then @someone and https://example.org/page in a longer sentence.\n\n"
)

OLD_PIPELINE = """
import sys, time
import markdown, nh3
from tests.board.pathological_markdown import CASES
source = CASES[sys.argv[1]](int(sys.argv[2]))
started = time.perf_counter()
md = markdown.Markdown(extensions=["fenced_code", "tables", "sane_lists", "nl2br"])
nh3.clean(md.convert(source))
print(time.perf_counter() - started)
"""


def _best_of(render, source: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        render(source)
        best = min(best, time.perf_counter() - started)
    return best


def after(size: int) -> None:
    from forum.markup import render

    benign = (BENIGN * (size // len(BENIGN) + 1))[:size]
    print(f"after: forum.markup.render (markdown-it-py), {size:,} characters per case")
    print(f"  ordinary post for scale: {_best_of(render, benign) * 1000:8.1f} ms")
    timings = sorted(
        ((_best_of(render, make(size)), name) for name, make in CASES.items()), reverse=True
    )
    for seconds, name in timings[:10]:
        print(f"  {seconds * 1000:8.1f} ms  {name}")
    print(f"  median case {timings[len(timings) // 2][0] * 1000:.1f} ms")
    worst, name = timings[0]
    print(f"after: WORST {worst * 1000:.1f} ms ({name}), {worst / size * 1e6:.1f} us per character")


def before(sizes: list[int], timeout: float) -> None:
    try:
        import markdown  # noqa: F401
    except ImportError:
        print("before: Python-Markdown is not installed; skipped")
        return
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root}
    for size in sizes:
        print(f"before: Python-Markdown, {size:,} characters per case, {timeout:g} s limit")
        timings = []
        for name in CASES:
            try:
                done = subprocess.run(
                    [sys.executable, "-c", OLD_PIPELINE, name, str(size)],
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    env=env,
                    check=False,
                )
                seconds = float(done.stdout.strip()) if done.returncode == 0 else None
                note = "" if seconds is not None else done.stderr.strip().splitlines()[-1][:60]
            except subprocess.TimeoutExpired:
                seconds, note = float("inf"), f"> {timeout:g} s (stopped)"
            timings.append((seconds if seconds is not None else -1.0, name, note))
        timings.sort(reverse=True)
        for seconds, name, note in timings[:10]:
            shown = note or f"{seconds * 1000:8.1f} ms"
            print(f"  {shown:>18}  {name}")
        stopped = sum(1 for seconds, _, _ in timings if seconds == float("inf"))
        failed = [name for seconds, name, _ in timings if seconds < 0]
        worst, name, note = timings[0]
        print(
            f"before: WORST {note or f'{worst * 1000:.1f} ms'} ({name}); "
            f"{stopped} case(s) stopped at the limit; failed (e.g. RecursionError): {failed}"
        )


def main() -> None:
    from forum.config import Defaults

    after(Defaults.POST_MAX_LENGTH)
    sizes = [int(s) for s in os.environ.get("BENCH_MARKUP_OLD_SIZES", "5000,50000").split(",")]
    before(sizes, float(os.environ.get("BENCH_MARKUP_TIMEOUT", "5")))


if __name__ == "__main__":
    main()
