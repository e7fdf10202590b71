"""The one image upload pipeline: product images, event covers, review photos, images in
posts and chat, and avatars all go through it.

An upload is read up to ``UPLOAD_MAX_BYTES``, opened with Pillow (which reads only
the header), refused unless it is a JPEG, PNG, WebP or GIF of at most
``MAX_PIXELS`` pixels, and only then decoded; a JPEG is decoded at a reduced scale
(``Image.draft``: 1/2, 1/4 or 1/8, still at least the stored size) so a large photo
never exists at full size in memory. At most ``DECODE_SLOTS`` decodes run at once per
process (a ``BoundedSemaphore``); an upload that finds no slot within
``UPLOAD_DECODE_WAIT_SECONDS`` is refused with 429 ``uploads_busy``. The picture is
then re-encoded (first frame, fitted into the caller's box): metadata such as GPS
EXIF is dropped and a file that merely *claims* to be an image, or hides another
format behind an image header, never reaches the disk as uploaded. Files are named
by a random token, never by the uploader's file name.

Measured (``python -m tests.bench uploads``): a 128 KB PNG of 6,300 x 6,300 px used
to take a worker from 183 MB to 991 MB; it is now refused from its header.
"""

import contextlib
import io
import os
import re
import secrets
import threading
import warnings
from dataclasses import dataclass
from importlib import import_module
from typing import IO, Protocol, cast

from flask import Response, abort, current_app, send_from_directory
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import RateLimited, ValidationFailed, field_error

ACCEPTED = ("JPEG", "PNG", "WEBP", "GIF")
# Checked on the header, before a single pixel is decoded. 16 MP covers a 4,000 x 4,000
# picture or a 12 MP phone photo; fully decoded as RGBA that is 64 MB at most.
MAX_PIXELS = 16_000_000
DECODE_SLOTS = 2  # concurrent decodes per process: the worst case is 2 x 64 MB
NOT_AN_IMAGE = "That file is not an image we can read. Upload a JPEG, PNG, WebP or GIF image."

_slots = threading.BoundedSemaphore(DECODE_SLOTS)


def read_limited(stream: IO[bytes], field: str = "image") -> bytes:
    """Read at most UPLOAD_MAX_BYTES (+1 to detect more) from ``stream``; 422 when too big or empty."""
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    data = stream.read(limit + 1)
    check_size(data, field)
    return data


def check_size(data: bytes, field: str = "image") -> None:
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    if len(data) > limit:
        raise field_error(
            field,
            f"Images may be at most {limit // (1024 * 1024) or 1} MB.",
            code="image_too_large",
        )
    if not data:
        raise field_error(field, "That file is empty.", code="invalid_image")


def _not_image(field: str) -> ValidationFailed:
    return field_error(field, NOT_AN_IMAGE, code="invalid_image")


def decode(
    data: bytes, *, box: tuple[int, int], field: str = "image", cover: bool = False
) -> Image.Image:
    """The first frame of ``data``, loaded, JPEGs at the smallest scale still covering ``box``
    (fitted into it, or with ``cover`` filling it, as a square crop needs).

    Raises ValidationFailed (``invalid_image``) for anything else or too many pixels,
    RateLimited (``uploads_busy``) when no decode slot frees in time.
    """
    check_size(data, field)
    wait = float(current_app.config["UPLOAD_DECODE_WAIT_SECONDS"])
    if not _slots.acquire(timeout=wait):
        raise RateLimited(
            "Too many images are being processed right now; try again in a moment.",
            code="uploads_busy",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))  # reads the header only
            if probe.format not in ACCEPTED:
                raise _not_image(field)
            width, height = probe.size
            if width < 1 or height < 1 or width * height > MAX_PIXELS:
                raise field_error(
                    field,
                    f"That image has too many pixels (at most {MAX_PIXELS // 1_000_000} "
                    "million, e.g. 4000 x 4000).",
                    code="invalid_image",
                )
            probe.verify()  # structure check without decoding; the object is unusable afterwards
            image = Image.open(io.BytesIO(data))
            image.seek(0)
            if image.format == "JPEG":
                # The size it will be stored at (fitted into the box, as thumbnail() does):
                # the decoder picks the smallest 1/2, 1/4 or 1/8 scale still at least that.
                scale = max if cover else min
                fit = min(scale(box[0] / width, box[1] / height), 1.0)
                image.draft(None, (max(1, int(width * fit)), max(1, int(height * fit))))
            image.load()
            return image
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        raise _not_image(field) from None
    finally:
        _slots.release()


STORED = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "png"}  # GIFs are stored as PNG


def reencode(
    data: bytes,
    *,
    box: tuple[int, int],
    field: str = "image",
    as_jpeg: bool = False,
    crop: bool = False,
) -> tuple[bytes, str]:
    """Check, decode and write ``data`` afresh, fitted into ``box`` (or, with ``crop``,
    filling it: centred and cut to its shape, as avatars are); returns (bytes, extension).

    The stored format follows the upload's (JPEG, PNG, WebP; GIF as PNG) unless
    ``as_jpeg``.
    """
    image = decode(data, box=box, field=field, cover=crop)
    ext = "jpg" if as_jpeg else STORED[str(image.format)]
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert(
            "RGBA" if "transparency" in image.info or image.mode in ("P", "PA") else "RGB"
        )
    if ext == "jpg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if crop:
        image = ImageOps.fit(image, box)
    else:
        image.thumbnail(box)
    out = io.BytesIO()
    if ext == "jpg":
        image.save(out, "JPEG", quality=85, optimize=True)
    elif ext == "webp":
        image.save(out, "WEBP", quality=85)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue(), ext


class Storage(Protocol):
    """Where stored images live. ``LocalStorage`` writes under the instance folder; an
    S3-compatible store implements the same three calls (put an object, stream it back
    or redirect to it, delete it), chosen with ``UPLOAD_STORAGE`` (a factory's dotted path)."""

    def put(self, folder: str, name: str, data: bytes) -> None: ...

    def send(self, folder: str, name: str, mimetype: str) -> Response: ...

    def delete(self, folder: str, name: str) -> None: ...


class LocalStorage:
    """Files under ``UPLOAD_FOLDER`` (the instance's ``uploads`` by default)."""

    def base(self) -> str:
        return current_app.config.get("UPLOAD_FOLDER") or os.path.join(
            current_app.instance_path, "uploads"
        )

    def put(self, folder: str, name: str, data: bytes) -> None:
        path = os.path.join(self.base(), folder)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, name), "wb") as handle:
            handle.write(data)

    def send(self, folder: str, name: str, mimetype: str) -> Response:
        return send_from_directory(
            os.path.join(self.base(), folder), name, mimetype=mimetype, max_age=86400
        )

    def delete(self, folder: str, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(self.base(), folder, name))


def storage() -> Storage:
    """The configured store (``UPLOAD_STORAGE``: a dotted path to a factory), else local files."""
    spec = current_app.config.get("UPLOAD_STORAGE")
    if not spec:
        return LocalStorage()
    module, _, attr = str(spec).rpartition(".")
    return cast(Storage, getattr(import_module(module), attr)())


@dataclass(frozen=True)
class StoredImage:
    name: str
    width: int
    height: int
    size: int


NAME_RE = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")
MIME = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class Folder:
    """One feature's uploaded images: a folder under ``UPLOAD_FOLDER`` (the instance's
    ``uploads`` by default), the form field errors are reported on, the box pictures are
    fitted into. Reading, storing, removing and serving go through the pipeline above;
    only names this pipeline gives (a random token and our extension) are served or removed.
    """

    def __init__(
        self,
        name: str,
        *,
        field: str,
        box: tuple[int, int],
        as_jpeg: bool = False,
        crop: bool = False,
    ) -> None:
        self.name, self.field, self.box, self.as_jpeg = name, field, box, as_jpeg
        self.crop = crop  # fill the box (a square avatar) rather than fit into it

    def path(self) -> str:
        """This folder on local disk (``LocalStorage``)."""
        return os.path.join(LocalStorage().base(), self.name)

    def read_limited(self, stream: IO[bytes]) -> bytes:
        """At most UPLOAD_MAX_BYTES of ``stream``; 422 on this folder's field when too big or empty."""
        return read_limited(stream, self.field)

    def store(self, data: bytes) -> str:
        """Check and re-encode ``data``; returns the stored name. Raises ValidationFailed."""
        return self.store_image(data).name

    def store_image(self, data: bytes) -> "StoredImage":
        """``store``, also saying the stored picture's pixel size and bytes."""
        encoded, ext = reencode(
            data, box=self.box, field=self.field, as_jpeg=self.as_jpeg, crop=self.crop
        )
        name = f"{secrets.token_hex(16)}.{ext}"
        storage().put(self.name, name, encoded)
        width, height = Image.open(io.BytesIO(encoded)).size  # our own output: header only
        return StoredImage(name, width, height, len(encoded))

    def store_as(self, name: str, data: bytes) -> None:
        """Check and re-encode ``data`` fitted into this folder's box, kept under ``name``
        (another folder's stored name: a thumbnail beside its picture). The upload's format
        decides the extension, as in ``store``; a ``name`` that disagrees is refused."""
        encoded, ext = reencode(data, box=self.box, field=self.field, as_jpeg=self.as_jpeg)
        if not self.is_valid_name(name) or not name.endswith("." + ext):
            raise ValueError(f"{name!r} is not a stored name for a .{ext} picture")
        storage().put(self.name, name, encoded)

    def is_valid_name(self, name: str | None) -> bool:
        if name is None or not NAME_RE.match(name):
            return False
        return not self.as_jpeg or name.endswith(".jpg")

    def remove(self, name: str | None) -> None:
        if name is not None and self.is_valid_name(name):
            storage().delete(self.name, name)

    def send(self, name: str) -> Response:
        """The stored file as a response (cached a day); 404 for any other name."""
        if not self.is_valid_name(name):
            abort(404)
        ext = name.rsplit(".", 1)[-1]
        return storage().send(self.name, name, MIME[ext])
