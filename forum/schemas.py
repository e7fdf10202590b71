"""Shared pieces of the API's request schemas."""

from pydantic import BaseModel, ConfigDict


class Body(BaseModel):
    """Request bodies: strict types, unknown fields refused so typos surface."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=100_000)


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None
