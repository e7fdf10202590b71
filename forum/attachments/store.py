"""Where post and chat images are kept: the one upload pipeline's ``attachments`` folder,
at most 1600 px a side."""

from .. import uploads

MAX_SIDE = 1600
IMAGES = uploads.Folder("attachments", field="image", box=(MAX_SIDE, MAX_SIDE))
