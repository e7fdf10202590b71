from . import bp, responses
from .core import endpoints, openapi_document

endpoint = endpoints(bp, tag="meta")


@endpoint("/openapi.json", "GET", auth="anyone", response=responses.OpenAPIDocument)
def openapi():
    """This document"""
    return openapi_document()
