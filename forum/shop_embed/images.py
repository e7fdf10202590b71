"""Product images: checked and re-encoded by the one upload pipeline (``forum.uploads``),
stored in the upload folder at most 1600 px a side, named by a random token."""

import contextlib
import os
import re

from flask import current_app

from .. import uploads

MAX_SIDE = 1600
NAME_RE = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")
MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def upload_folder() -> str:
    folder = current_app.config.get("UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    return os.path.join(folder, "products")


def read_limited(stream) -> bytes:
    """Read at most UPLOAD_MAX_BYTES (+1 to detect more) from ``stream``; 422 when too big or empty."""
    return uploads.read_limited(stream, "image")


def store(data: bytes) -> str:
    """Check and re-encode ``data`` (the one upload pipeline); returns the stored file name."""
    return uploads.save(data, upload_folder(), box=(MAX_SIDE, MAX_SIDE), field="image")


def remove(name: str | None) -> None:
    if name and NAME_RE.match(name):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(upload_folder(), name))


def is_valid_name(name: str) -> bool:
    return bool(NAME_RE.match(name or ""))
