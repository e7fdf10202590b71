"""Uploads: images for posts and chat messages (multipart field ``image``)."""

from flask import request

from ..attachments import service
from ..errors import ValidationFailed
from ..permissions import acting_user
from . import bp
from .core import endpoints
from .responses.attachments import Upload

endpoint = endpoints(bp, tag="uploads")


@endpoint(
    "/uploads",
    "POST",
    status=201,
    errors=(413, 422),
    limits=("ATTACHMENT_LIMIT_PER_IP",),
    response=Upload,
)
def create_upload():
    """Upload an image for a post or chat message (multipart field `image`: JPEG, PNG, WebP or GIF);
    returns the Markdown that shows it"""
    upload = request.files.get("image")
    if upload is None:
        raise ValidationFailed(
            "Attach the image as the multipart field `image`.", fields={"image": ["Required."]}
        )
    return service.dump(service.upload(acting_user(), service.read_limited(upload.stream)))


@endpoint("/uploads/<int:upload_id>", "DELETE")
def delete_upload(upload_id: int):
    """Delete one of your uploaded images (moderators: anyone's)"""
    service.delete(acting_user(), upload_id)
