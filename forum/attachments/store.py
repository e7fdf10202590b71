"""Where post and chat images are kept: the one upload pipeline's ``attachments`` folder,
at most 1600 px a side, and beside it, under the same name, the thumbnail a post shows
(at most 480 px a side, made once at upload)."""

from .. import uploads

MAX_SIDE = 1600
IMAGES = uploads.Folder("attachments", field="image", box=(MAX_SIDE, MAX_SIDE))
THUMB_SIDE = 480
THUMBS = uploads.Folder("attachment-thumbs", field="image", box=(THUMB_SIDE, THUMB_SIDE))
