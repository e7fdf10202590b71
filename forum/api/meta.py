from . import bp
from .core import endpoint, openapi_document


@endpoint(bp, "/openapi.json", "GET", summary="This document", auth="anyone", tag="meta")
def openapi():
    return openapi_document()
