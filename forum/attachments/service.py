"""Post and chat images: upload (members, rate-limited), delete (the uploader or a
moderator), serve, and the Markdown that shows one."""

from flask import Response, current_app
from werkzeug.exceptions import NotFound as FileMissing

from .. import ratelimit
from ..database import newest_first
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..permissions import can_moderate, check_member
from ..schemas import iso
from .models import Attachment
from .store import IMAGES, THUMBS

URL = "/media/{}"  # views.media; a constant so rendering needs no request


def url_of(attachment: Attachment) -> str:
    return URL.format(attachment.name)


def markdown_of(attachment: Attachment) -> str:
    """What the composer inserts: an image the site serves itself."""
    return f"![image]({url_of(attachment)})"


def read_limited(stream) -> bytes:
    return IMAGES.read_limited(stream)


def upload(user, data: bytes) -> Attachment:
    """Check, re-encode and keep ``data`` as ``user``'s image. Forbidden for visitors and
    suspended accounts, RateLimited past ``ATTACHMENT_LIMIT``, ValidationFailed (field
    ``image``) for anything the pipeline refuses; nothing is stored then."""
    check_member(user)
    ratelimit.consume(
        current_app.config["ATTACHMENT_LIMIT"],
        "attachment",
        user.id,
        message="You are uploading images too fast; wait a while.",
    )
    stored = IMAGES.store_image(data)
    THUMBS.store_as(stored.name, data)  # once, here: pages never resize
    attachment = Attachment(
        user_id=user.id,
        name=stored.name,
        width=stored.width,
        height=stored.height,
        size=stored.size,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def get(attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("No such image.")
    return attachment


def delete(user, attachment_id: int) -> None:
    """Remove an image: its uploader or a moderator; anyone else is refused (403)."""
    check_member(user)
    attachment = get(attachment_id)
    if attachment.user_id != user.id and not can_moderate(user):
        raise Forbidden("Only the member who uploaded an image may delete it.", code="not_owner")
    name = attachment.name
    db.session.delete(attachment)
    db.session.flush()
    IMAGES.remove(name)
    THUMBS.remove(name)


def mine(user, limit: int = 50) -> list[Attachment]:
    return newest_first(Attachment.user_id, user.id, limit=limit)


def _check_uploaded(name: str) -> None:
    """NotFound unless ``name`` is an upload's stored name."""
    if not IMAGES.is_valid_name(name) or not db.session.scalar(
        db.select(Attachment.id).where(Attachment.name == name)
    ):
        raise NotFound("No such image.")


def send(name: str) -> Response:
    """The stored file; 404 for a name no upload has."""
    _check_uploaded(name)
    return IMAGES.send(name)


def send_thumbnail(name: str) -> Response:
    """The stored thumbnail; the picture itself for an upload older than thumbnails."""
    _check_uploaded(name)
    try:
        return THUMBS.send(name)
    except FileMissing:
        return IMAGES.send(name)


def dump(attachment: Attachment) -> dict:
    return {
        "id": attachment.id,
        "url": url_of(attachment),
        "markdown": markdown_of(attachment),
        "width": attachment.width,
        "height": attachment.height,
        "size": attachment.size,
        "created_at": iso(attachment.created_at),
    }
