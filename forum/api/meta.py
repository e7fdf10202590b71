from . import bp, responses
from .core import endpoints, openapi_document

endpoint = endpoints(bp, tag="meta")


@endpoint(
    "/openapi.json",
    "GET",
    summary="This document",
    auth="anyone",
    response=responses.OpenAPIDocument,
)
def openapi():
    return openapi_document()
