"""Review photos: checked and re-encoded by the one upload pipeline (``forum.uploads``),
at most 1600 px a side, served from our own origin under a random name."""

import contextlib
import os
import re

from flask import current_app

from .. import uploads

MAX_SIDE = 1600
NAME_RE = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")
MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def folder() -> str:
    base = current_app.config.get("UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    return os.path.join(base, "reviews")


def read_limited(stream) -> bytes:
    return uploads.read_limited(stream, "photos")


def store(data: bytes) -> str:
    """Check and re-encode one photo; returns the stored name. Raises ValidationFailed."""
    return uploads.save(data, folder(), box=(MAX_SIDE, MAX_SIDE), field="photos")


def remove(name: str | None) -> None:
    if name and NAME_RE.match(name):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder(), name))


def is_valid_name(name: str) -> bool:
    return bool(NAME_RE.match(name or ""))
