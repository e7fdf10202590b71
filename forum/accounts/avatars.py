"""Where avatars are kept: the one upload pipeline's ``avatars`` folder, each picture
re-encoded and cut to a centred square of ``SIDE`` pixels (shown smaller everywhere)."""

from .. import uploads

SIDE = 256
AVATARS = uploads.Folder("avatars", field="avatar", box=(SIDE, SIDE), crop=True)
