"""The base every response model shares (``extra="forbid"``) and the small shapes all features use."""

from pydantic import BaseModel, ConfigDict


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


Timestamp = str  # ISO 8601, UTC
Cursor = str | None


# --- shared -------------------------------------------------------------------------


class UserRef(Out):
    id: int
    username: str
    trust_level: int


class Embed(Out):
    kind: str
    id: int
    href: str
