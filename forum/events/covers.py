"""Cover images: uploaded, checked and re-encoded here, served from our own origin.

The upload is decoded with Pillow and written out again as a fresh JPEG (at most
1600x900), so nothing the member sent (metadata, polyglot bytes, scripts in SVG)
reaches other readers; the file name is random. The CSP allows images from
'self' only, which is why covers are not remote links.
"""

import os
import secrets
from io import BytesIO

from flask import current_app
from PIL import Image, UnidentifiedImageError

from ..errors import field_error

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000
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
    if len(data) > current_app.config["UPLOAD_MAX_BYTES"]:
        limit = current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)
        raise field_error("cover_image", f"Use an image under {limit} MB.")
    try:
        with Image.open(BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise field_error("cover_image", "Use a JPEG, PNG, WebP or GIF image.")
            if probe.width * probe.height > MAX_PIXELS:
                raise field_error("cover_image", "That image is too large.")
            probe.verify()
        with Image.open(BytesIO(data)) as image:
            image.seek(0)
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise field_error("cover_image", "That file is not an image we can read.") from None
    picture.thumbnail(COVER_SIZE)
    name = secrets.token_hex(NAME_LENGTH // 2) + ".jpg"
    picture.save(os.path.join(folder(), name), "JPEG", quality=85, optimize=True)
    return name


def is_cover_name(name: str) -> bool:
    stem, dot, ext = name.partition(".")
    return (
        dot == "."
        and ext == "jpg"
        and len(stem) == NAME_LENGTH
        and all(c in "0123456789abcdef" for c in stem)
    )
