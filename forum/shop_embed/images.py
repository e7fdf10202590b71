"""Product images: size and real-type checks with Pillow, stored in the upload folder.

An upload is accepted only if Pillow decodes it as JPEG, PNG, WebP or GIF within
``UPLOAD_MAX_BYTES`` and a pixel budget (decompression bombs). It is then
re-encoded (first frame, at most 1600 px a side): metadata such as GPS EXIF is
dropped and a file that merely *claims* to be an image, or hides another format
behind an image header, never reaches the disk as uploaded. Files are named by a
random token, never by the uploader's file name.
"""

import contextlib
import io
import os
import re
import secrets
import warnings

from flask import current_app
from PIL import Image, UnidentifiedImageError

from ..errors import field_error

FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "png"}  # GIFs are stored as PNG
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000
NAME_RE = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")
MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def upload_folder() -> str:
    folder = current_app.config.get("UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    return os.path.join(folder, "products")


def read_limited(stream) -> bytes:
    """Read at most UPLOAD_MAX_BYTES (+1 to detect more) from ``stream``; 422 when too big or empty."""
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise field_error(
            "image",
            f"Images may be at most {limit // (1024 * 1024) or 1} MB.",
            code="image_too_large",
        )
    if not data:
        raise field_error("image", "That file is empty.", code="invalid_image")
    return data


def decode(data: bytes) -> tuple[Image.Image, str]:
    """Decode ``data`` as an allowed image; returns (image, extension to store)."""
    not_image = field_error("image", "Upload a JPEG, PNG, WebP or GIF image.", code="invalid_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.format not in FORMATS:
                raise not_image
            width, height = probe.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise field_error("image", "That image has too many pixels.", code="invalid_image")
            probe.verify()  # structure check; the object is unusable afterwards
            image = Image.open(io.BytesIO(data))
            fmt = image.format
            image.seek(0)
            image.load()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        raise not_image from None
    return image, FORMATS[fmt]


def store(data: bytes) -> str:
    """Check and re-encode ``data``; returns the stored file name."""
    image, ext = decode(data)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert(
            "RGBA" if "transparency" in image.info or image.mode in ("P", "PA") else "RGB"
        )
    if ext == "jpg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    name = f"{secrets.token_hex(16)}.{ext}"
    folder = upload_folder()
    os.makedirs(folder, exist_ok=True)
    out = io.BytesIO()
    if ext == "jpg":
        image.save(out, "JPEG", quality=85, optimize=True)
    elif ext == "webp":
        image.save(out, "WEBP", quality=85)
    else:
        image.save(out, "PNG", optimize=True)
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(out.getvalue())
    return name


def remove(name: str | None) -> None:
    if name and NAME_RE.match(name):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(upload_folder(), name))


def is_valid_name(name: str) -> bool:
    return bool(NAME_RE.match(name or ""))
