"""Shared pieces of the request schemas (the JSON API and the sockets validate alike)."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ValidationFailed

# Every id, count, quantity and amount column is a SQL INTEGER: 32 bits on
# PostgreSQL. Numbers beyond it can name nothing and cannot be stored, so every
# door (URL converters, bodies, cursors) refuses them before a query sees them.
MAX_DB_INT = 2**31 - 1
MIN_DB_INT = -(2**31)

Id = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A row id in a request body: 1 .. 2**31-1 (422 otherwise)."""

DbInt = Annotated[int, Field(ge=MIN_DB_INT, le=MAX_DB_INT)]
"""A count, quantity or amount in a request body, bounded to the column's range; the
services check the business range (positive, within stock...)."""


class Body(BaseModel):
    """Request bodies: strict types, unknown fields refused so typos surface."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=100_000)


class ReasonBody(Body):
    """An optional ``reason``: a moderator acting on someone else's item (a DELETE)
    must give one; the author needs none (the service decides)."""

    reason: str = Field(default="", max_length=500)


def attrs(obj: Any, *names: str) -> dict[str, Any]:
    """``{name: obj.name}`` for each name: the plain fields a dump function copies as they are."""
    return {name: getattr(obj, name) for name in names}


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def validate(model: type[BaseModel], data: dict) -> BaseModel:
    """Validate ``data`` with ``model``; a 422 with per-field messages when it fails."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for problem in exc.errors(include_url=False):
            name = ".".join(str(part) for part in problem["loc"]) or "body"
            fields.setdefault(name, []).append(problem["msg"])
        raise ValidationFailed("Some fields are not valid.", fields=fields) from None
