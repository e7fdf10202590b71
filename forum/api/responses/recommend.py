"""Response shapes of the recommendation endpoints."""

from typing import Literal

from pydantic import Field

from .shared import Out, Timestamp


class Recommended(Out):
    kind: Literal["thread", "offer", "snap", "groupbuy", "auction", "guess", "event", "room"] = (
        Field(
            description="offer: a product; snap, groupbuy, auction, guess: a deal the member "
            "can still take (a snap-up, group-buy, Dutch auction or guessing game, listed "
            "among the offers)"
        )
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
