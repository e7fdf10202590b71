"""Worst rendering time over the pathological Markdown corpus: now, markdown-it-py, before.

python -m tests.bench markup

"After" is ``forum.markup.render`` (cmark-gfm -> nh3 -> embeds and mentions) on every
case of tests/board/pathological_markdown.py at POST_MAX_LENGTH, best of three runs
each, beside an ordinary 50,000-character post for scale. Beside it, in the column
"markdown-it-py", the parser tried before cmark-gfm (CommonMark with tables,
strikethrough, linkify and breaks -> nh3; one run per case), when it is installed.
"Before" is the old pipeline (Python-Markdown with fenced_code, tables, sane_lists,
nl2br -> nh3) when the ``markdown`` package is still installed: each case runs in its
own process with a time limit (BENCH_MARKUP_TIMEOUT seconds, default 5) at each size
of BENCH_MARKUP_OLD_SIZES (default "5000,50000"), so the bench finishes.
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


def _markdown_it_render():
    """markdown-it-py as forum.markup used it (without our own rules), or None."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return None
    import nh3

    md = MarkdownIt("commonmark", {"html": True, "linkify": True, "breaks": True})
    try:
        md.enable(["table", "strikethrough", "linkify"])
        md.render("www.example.org")
    except Exception:  # linkify-it-py missing
        md = MarkdownIt("commonmark", {"html": True, "breaks": True})
        md.enable(["table", "strikethrough"])
    return lambda source: nh3.clean(md.render(source))


def after(size: int) -> None:
    from forum.markup import render

    other = _markdown_it_render()
    benign = (BENIGN * (size // len(BENIGN) + 1))[:size]
    print(f"after: forum.markup.render (cmark-gfm), {size:,} characters per case")
    mdit_benign = f"{_best_of(other, benign, 1) * 1000:8.1f} ms" if other else "-"
    print(f"  ordinary post for scale: {_best_of(render, benign) * 1000:8.1f} ms", end="")
    print(f"   (markdown-it-py {mdit_benign.strip()})")
    rows = []
    for name, make in CASES.items():
        source = make(size)
        rows.append((_best_of(render, source), _best_of(other, source, 1) if other else None, name))
    rows.sort(reverse=True)
    print(f"  {'after':>11}  {'markdown-it-py':>14}  case")
    for seconds, other_seconds, name in rows[:15]:
        shown = f"{other_seconds * 1000:11.1f} ms" if other_seconds is not None else " " * 11 + "-"
        print(f"  {seconds * 1000:8.1f} ms  {shown}  {name}")
    print(f"  median case {rows[len(rows) // 2][0] * 1000:.1f} ms")
    worst, _, name = rows[0]
    print(f"after: WORST {worst * 1000:.1f} ms ({name}), {worst / size * 1e6:.1f} us per character")
    if other:
        worst_other, name_other = max((o, n) for _, o, n in rows)
        print(
            f"markdown-it-py: WORST {worst_other * 1000:.1f} ms ({name_other}), "
            f"{worst_other / worst:.0f}x the worst after"
        )
    else:
        print("markdown-it-py: not installed; skipped")


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
