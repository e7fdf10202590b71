"""Product images: checked and re-encoded by the one upload pipeline (``forum.uploads``),
stored in the upload folder at most 1600 px a side, named by a random token."""

from .. import uploads

MAX_SIDE = 1600
IMAGES = uploads.Folder("products", field="image", box=(MAX_SIDE, MAX_SIDE))
