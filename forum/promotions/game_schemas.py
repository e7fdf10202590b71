"""API bodies and response shapes of Dutch auctions, guessing games, ladders and reminders.

Kept beside ``schemas.py`` (group-buys, snap-ups); the same rules: types only here,
ranges and rules in the service; response models forbid extra keys so the OpenAPI
document cannot drift from what is sent.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from ..errors import ValidationFailed
from ..money import MinorUnits
from ..schemas import Body, DbInt, Id, attrs, iso
from ..shop_embed.schemas import Address
from . import service
from .schemas import dump_offer


class AuctionBody(Body):
    product_id: Id
    units: DbInt
    start_price_cents: MinorUnits
    floor_price_cents: MinorUnits
    drop_cents: MinorUnits
    drop_every_seconds: DbInt
    starts_at: str = Field(max_length=64)
    per_user_limit: DbInt = 1


class TakeBody(Body):
    shipping_address: Address | None = None


class GuessGameBody(Body):
    product_id: Id
    market_price_cents: MinorUnits
    points_per_guess: DbInt
    max_guesses_per_user: DbInt
    ends_at: str = Field(max_length=64)


def patch_of(body: type[Body], *, keep_out: tuple[str, ...] = ("product_id",)) -> type[Body]:
    """``body`` for a PATCH: the same fields with the same types and bounds, each optional
    (absent = unchanged); ``keep_out`` are not changeable, so sending them is a 422 like
    any unknown field. ``changes()`` is what the caller sent; an explicit null is refused."""

    def changes(self) -> dict:
        nulls = [name for name in self.model_fields_set if getattr(self, name) is None]
        if nulls:
            raise ValidationFailed(fields={name: ["Must not be null."] for name in nulls})
        return {name: getattr(self, name) for name in self.model_fields_set}

    fields: dict = {
        name: (info.annotation | None, FieldInfo.merge_field_infos(info, default=None))
        for name, info in body.model_fields.items()
        if name not in keep_out
    }
    patch = create_model(body.__name__.replace("Body", "Patch"), __base__=Body, **fields)
    patch.changes = changes  # type: ignore[attr-defined]
    return patch


AuctionPatch = patch_of(AuctionBody)
GuessGamePatch = patch_of(GuessGameBody)


class GuessBody(Body):
    amount_cents: DbInt


class ReminderBody(Body):
    kind: Literal["snap", "auction", "guess"]
    id: Id


# --- responses ----------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductRef(Out):
    id: int
    name: str
    price_cents: int
    currency: str


class LastSale(Out):
    price_cents: int
    at: str


class Auction(Out):
    id: int
    state: Literal["upcoming", "live", "ended"]
    price_cents: int
    next_drop_at: str | None
    units_left: int
    floor_price_cents: int
    units: int
    start_price_cents: int
    drop_cents: int
    drop_every_seconds: int
    per_user_limit: int
    currency: str
    starts_at: str
    ends_at: str
    last_sale: LastSale | None
    server_now: str
    merchant_id: int
    product: ProductRef
    payment_window_minutes: int
    url: str
    created_at: str | None
    my_taken: int = 0


class GuessResult(Out):
    amount_cents: int
    unique_now: bool
    unique_below: int


class Winner(Out):
    username: str
    amount_cents: int


class Bucket(Out):
    amount_cents: int
    guesses: int


class GuessGame(Out):
    id: int
    state: Literal["open", "closed"]
    ends_at: str
    guesses_count: int
    server_now: str
    merchant_id: int
    product: ProductRef
    market_price_cents: int
    points_per_guess: int
    max_guesses_per_user: int
    currency: str
    url: str
    created_at: str | None
    winner: Winner | None = None
    distribution: list[Bucket] = Field(default_factory=list)
    my_guesses: list[GuessResult] = Field(default_factory=list)


class Reminder(Out):
    kind: str
    id: int
    remind_at: str
    sent: bool


def dump_auction(auction, viewer=None) -> dict:
    return dump_offer(
        auction,
        service.auction_payload(auction),
        viewer,
        url=service.auction_url,
        mine=("my_taken", service.taken_by),
        **attrs(auction, "drop_cents", "drop_every_seconds", "per_user_limit", "currency"),
        payment_window_minutes=int(service.auction_payment_window().total_seconds() // 60),
    )


def dump_game(game, viewer=None) -> dict:
    """A game as anyone may see it: amounts only after the close (and the viewer's own)."""
    data = dump_offer(
        game,
        service.game_payload(game),
        viewer,
        url=service.game_url,
        mine=("my_guesses", service.my_guesses),
        **attrs(game, "market_price_cents", "points_per_guess", "max_guesses_per_user", "currency"),
    )
    if data["state"] == "closed":
        data["distribution"] = service.distribution(game)
    return data


def dump_reminder(reminder) -> dict:
    return {
        "kind": reminder.kind,
        "id": reminder.offer_id,
        "remind_at": iso(reminder.remind_at),
        "sent": reminder.sent_at is not None,
    }
