"""Run every benchmark script in this folder (``make bench``), or those named:
``python -m tests.bench pages chat_fanout``. Each prints its own figures."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> None:
    here = Path(__file__).parent
    names = [m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")]
    wanted = [f"bench_{n}" if not n.startswith("bench_") else n for n in argv] or sorted(names)
    for name in wanted:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"tests.bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
