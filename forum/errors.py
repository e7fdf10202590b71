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

    def __init_subclass__(
        cls, *, status: int | None = None, code: str | None = None, message: str | None = None
    ) -> None:
        """A kind of error says its HTTP status, code and default message in its header."""
        super().__init_subclass__()
        for name, value in (("status", status), ("code", code), ("message", message)):
            if value is not None:
                setattr(cls, name, value)

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


class ValidationFailed(
    ServiceError, status=422, code="invalid", message="Some fields are not valid."
):
    """The input is refused; ``fields`` says which field and why."""


class NotAuthenticated(
    ServiceError, status=401, code="not_authenticated", message="Please log in."
):
    """Nobody is logged in (or the token is not valid)."""


class Forbidden(
    ServiceError, status=403, code="forbidden", message="You are not allowed to do that."
):
    """Logged in, but not allowed (another member's object, a role, a trust level)."""


class NotFound(ServiceError, status=404, code="not_found", message="Not found."):
    """No such object, or one the caller may not know exists."""


class Conflict(
    ServiceError, status=409, code="conflict", message="That conflicts with the current state."
):
    """Allowed, but the current state refuses it (sold out, locked, ended...)."""


class RateLimited(
    ServiceError, status=429, code="rate_limited", message="Too many requests; please slow down."
):
    """Too many attempts; try again later."""


def field_error(field: str, message: str, *, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(message, code=code, fields={field: [message]})
