from . import bp, responses
from .core import endpoint, openapi_document


@endpoint(
    bp,
    "/openapi.json",
    "GET",
    summary="This document",
    auth="anyone",
    tag="meta",
    response=responses.OpenAPIDocument,
)
def openapi():
    return openapi_document()
