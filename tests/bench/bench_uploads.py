"""Peak memory of one image upload, before and after the one upload pipeline.

``python -m tests.bench uploads``. Each case runs in a fresh subprocess, which reports
how far its peak RSS (VmHWM in /proc/self/status: Pillow's pixel buffers are C memory,
which tracemalloc would not see; getrusage's ru_maxrss would carry the parent's peak
across exec) rose above what it used before the decode. "before"
is the previous product-image pipeline (40 MP ceiling, every format decoded at full
size); "after" is ``forum.uploads`` (16 MP ceiling on the header, JPEGs drafted to
the stored size).
"""

import io
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from PIL import Image

CASES = {
    "png at the ceiling (4000 x 4000 RGB)": ("PNG", "RGB", (4000, 4000)),
    "jpeg at the ceiling (4000 x 4000)": ("JPEG", "RGB", (4000, 4000)),
    "png bomb (6300 x 6300, 1-bit)": ("PNG", "1", (6300, 6300)),
}


def _make(fmt: str, mode: str, size: tuple[int, int]) -> bytes:
    image = Image.new(mode, size, 0 if mode == "1" else (30, 120, 200))
    if mode != "1":  # some texture, so the file is not trivially small
        image.paste(Image.effect_noise((256, 256), 60).convert(mode), (0, 0))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def _before(data: bytes) -> None:
    """The product pipeline as it was: a 40 MP ceiling, then a full decode."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        probe = Image.open(io.BytesIO(data))
        if probe.width * probe.height > 40_000_000:
            raise ValueError("too many pixels")
        probe.verify()
        image = Image.open(io.BytesIO(data))
        image.seek(0)
        image.load()
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGB")
    image.thumbnail((1600, 1600))
    image.save(io.BytesIO(), "PNG")


def _after_app():
    from forum import create_app

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    context = app.test_request_context("/")
    context.push()
    return context


def _after(data: bytes) -> None:
    from forum import uploads

    uploads.reencode(data, box=(1600, 1600))


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM (Linux only)")


def _child(path: str, which: str) -> None:
    data = Path(path).read_bytes()  # made by the parent: making it here would raise the peak
    if which == "after":
        _after_app()  # the app and its imports are not the upload's memory
    base = _peak_mb()
    outcome = "stored"
    try:
        (_before if which == "before" else _after)(data)
    except Exception as exc:  # noqa: BLE001 - a refusal is an outcome to print
        outcome = f"refused ({type(exc).__name__})"
    peak = _peak_mb()
    print(json.dumps({"rise_mb": peak - base, "outcome": outcome}))


def main() -> None:
    print("peak RSS rise of one upload, in a fresh process (before -> after)")
    print(f"{'case':40} {'file':>8} {'before':>22} {'after':>22}")
    with tempfile.TemporaryDirectory(prefix="plaza-bench-uploads-") as tmp:
        for n, (case, spec) in enumerate(CASES.items()):
            _row(Path(tmp) / f"case{n}", case, spec)


def _row(path: Path, case: str, spec) -> None:
    path.write_bytes(_make(*spec))
    row = {}
    for which in ("before", "after"):
        out = subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_uploads", str(path), which],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        row[which] = json.loads(out.splitlines()[-1])
    cells = [f"{row[w]['rise_mb']:6.0f} MB {row[w]['outcome'].split(' ')[0]:>9}" for w in row]
    kb = path.stat().st_size // 1024
    print(f"{case:40} {kb:>5} KB {cells[0]:>22} {cells[1]:>22}")


if __name__ == "__main__":
    if len(sys.argv) == 3:
        _child(sys.argv[1], sys.argv[2])
    else:
        main()
