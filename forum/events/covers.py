"""Cover images: checked and re-encoded by the one upload pipeline (``forum.uploads``)
as a fresh JPEG (at most 1600x900), served from our own origin.

Nothing the member sent (metadata, polyglot bytes, scripts in SVG) reaches other
readers; the file name is random. The CSP allows images from 'self' only, which is
why covers are not remote links.
"""

import os

from flask import current_app

from .. import uploads

COVER_SIZE = (1600, 900)
NAME_LENGTH = 32


def folder() -> str:
    base = current_app.config.get("UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    path = os.path.join(base, "events")
    os.makedirs(path, exist_ok=True)
    return path


def save_cover(data: bytes) -> str:
    """Store an uploaded image as a cover; returns its file name. Raises ValidationFailed."""
    return uploads.save(data, folder(), box=COVER_SIZE, field="cover_image", as_jpeg=True)


def is_cover_name(name: str) -> bool:
    stem, dot, ext = name.partition(".")
    return (
        dot == "."
        and ext == "jpg"
        and len(stem) == NAME_LENGTH
        and all(c in "0123456789abcdef" for c in stem)
    )
