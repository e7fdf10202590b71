"""Accounts: users, tokens, the OpenAPI document."""

from typing import Any

from pydantic import BaseModel, ConfigDict

from .shared import Cursor, Out, Timestamp

# --- accounts -----------------------------------------------------------------------


class User(Out):
    id: int
    username: str
    roles: list[str]
    trust_level: int
    created_at: Timestamp


class Registered(Out):
    user: User
    token: str


class Token(Out):
    token: str


class ApiToken(Out):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: Timestamp
    last_used_at: Timestamp | None


class ApiTokenPage(Out):
    items: list[ApiToken]
    next_cursor: Cursor


class NewApiToken(ApiToken):
    token: str  # shown once


class Me(User):
    tier: str
    points: int
    credit_cents: int


class OpenAPIDocument(BaseModel):
    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class Avatar(Out):
    avatar_url: str  # where the square picture is served
