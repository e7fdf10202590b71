"""Cover images: checked and re-encoded by the one upload pipeline (``forum.uploads``)
as a fresh JPEG (at most 1600x900), served from our own origin.

Nothing the member sent (metadata, polyglot bytes, scripts in SVG) reaches other
readers; the file name is random. The CSP allows images from 'self' only, which is
why covers are not remote links.
"""

import os

from .. import uploads

COVER_SIZE = (1600, 900)
COVERS = uploads.Folder("events", field="cover_image", box=COVER_SIZE, as_jpeg=True)


def save_cover(data: bytes) -> str:
    """Store an uploaded image as a cover; returns its file name. Raises ValidationFailed."""
    os.makedirs(COVERS.path(), exist_ok=True)  # the folder stands once covers are in use
    return COVERS.store(data)


def is_cover_name(name: str) -> bool:
    return COVERS.is_valid_name(name)
