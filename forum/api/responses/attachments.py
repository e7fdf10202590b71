"""Response shapes of the upload endpoints."""

from .shared import Out, Timestamp


class Upload(Out):
    id: int
    url: str
    markdown: str  # what to insert into a post or chat message
    width: int
    height: int
    size: int
    created_at: Timestamp
