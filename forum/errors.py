"""Errors that services raise and every front door (pages, API, sockets) translates.

A service validates and authorizes first, then writes; when it refuses, it raises
one of these and nothing has been written. ``code`` is the stable snake_case
identifier the API contract names (``insufficient_stock``, ``thread_locked``...).
"""

from collections.abc import Mapping
from typing import Any


class ServiceError(Exception):
    status = 400
    code = "bad_request"
    message = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        if code:
            self.code = code
        self.fields: dict[str, list[str]] = dict(fields or {})

    def to_dict(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class ValidationFailed(ServiceError):
    status = 422
    code = "invalid"
    message = "Some fields are not valid."


class NotAuthenticated(ServiceError):
    status = 401
    code = "not_authenticated"
    message = "Please log in."


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    message = "You are not allowed to do that."


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    message = "Not found."


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    message = "That conflicts with the current state."


class RateLimited(ServiceError):
    status = 429
    code = "rate_limited"
    message = "Too many requests; please slow down."


def field_error(field: str, message: str, *, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})
