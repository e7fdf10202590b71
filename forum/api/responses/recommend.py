"""Response shapes of the recommendation endpoints."""

from typing import Literal

from pydantic import Field

from .shared import Out, Timestamp


class Recommended(Out):
    kind: Literal["thread", "offer", "snap", "groupbuy", "event", "room"] = Field(
        description="offer: a product; snap, groupbuy: a live deal (listed among the offers)"
    )
    id: int
    title: str
    reason: str
    href: str


class Recommendations(Out):
    personal: bool
    computed_at: Timestamp | None
    threads: list[Recommended]
    offers: list[Recommended]
    events: list[Recommended]
    rooms: list[Recommended]
