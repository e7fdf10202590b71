"""Review photos: checked and re-encoded by the one upload pipeline (``forum.uploads``),
at most 1600 px a side, served from our own origin under a random name."""

from .. import uploads

MAX_SIDE = 1600
PHOTOS = uploads.Folder("reviews", field="photos", box=(MAX_SIDE, MAX_SIDE))
