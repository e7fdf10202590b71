"""The base every response model shares (``extra="forbid"``) and the small shapes all features use."""

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OverDays(Out):
    """A report over a range of days, which it names first (``from`` is a Python keyword)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")
    to: str


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
