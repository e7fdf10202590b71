"""Dutch auctions, guessing games and reminders (shared/API.md, Auctions and guessing games)."""

from ..permissions import acting_user as _user
from ..promotions import service
from ..promotions.game_schemas import (
    Auction,
    AuctionBody,
    AuctionPatch,
    GuessBody,
    GuessGame,
    GuessGameBody,
    GuessGamePatch,
    GuessResult,
    Reminder,
    ReminderBody,
    TakeBody,
    dump_auction,
    dump_game,
    dump_reminder,
)
from ..shop_embed.schemas import dump_order
from . import bp, responses
from .core import PLACES_ORDER, endpoints, idempotent_response, order_through

# --- Dutch auctions ------------------------------------------------------------------


endpoint = endpoints(bp, tag="promotions")


@endpoint("/auctions", "POST", auth="merchant", body=AuctionBody, status=201, response=Auction)
def create_auction(data: AuctionBody):
    """Create a Dutch auction of one of the caller's products"""
    return dump_auction(service.create_auction(_user(), **data.model_dump()))


@endpoint("/auctions/<int:auction_id>", "GET", auth="anyone", response=Auction)
def get_auction(auction_id: int):
    """An auction: state, price_cents (from the server clock), next_drop_at, units_left"""
    return dump_auction(service.get_auction(auction_id), _user())


@endpoint("/auctions/<int:auction_id>", "PATCH", body=AuctionPatch, errors=(409,), response=Auction)
def edit_auction(auction_id: int, data):
    """Change an auction before its start (its merchant, admin); 409 started"""
    auction = service.get_auction(auction_id)
    return dump_auction(service.edit_auction(_user(), auction, **data.changes()))


@endpoint(
    "/auctions/<int:auction_id>/take", body=TakeBody, response=responses.Order, **PLACES_ORDER
)
def take_auction(auction_id: int, data: TakeBody):
    """Take one unit at the current price; 409 sold_out / limit_reached / not_started / ended"""
    order, replayed = order_through(service.take, service.get_auction(auction_id), data)
    return idempotent_response(dump_order(order), replayed)


@endpoint("/auctions/<int:auction_id>/end", "POST", response=Auction)
def end_auction(auction_id: int):
    """End an auction now (its merchant, admin)"""
    return dump_auction(service.end_auction(_user(), service.get_auction(auction_id)))


# --- guessing games ------------------------------------------------------------------


@endpoint(
    "/guess-games", "POST", auth="merchant", body=GuessGameBody, status=201, response=GuessGame
)
def create_guess_game(data: GuessGameBody):
    """Create a lowest-unique-price guessing game for one of the caller's products"""
    return dump_game(service.create_game(_user(), **data.model_dump()))


@endpoint("/guess-games/<int:game_id>", "GET", auth="anyone", response=GuessGame)
def get_guess_game(game_id: int):
    """A guessing game: state, ends_at, guesses_count; after the close the winner"""
    return dump_game(service.get_game(game_id), _user())


@endpoint(
    "/guess-games/<int:game_id>", "PATCH", body=GuessGamePatch, errors=(409,), response=GuessGame
)
def edit_guess_game(game_id: int, data):
    """Change a guessing game before its first guess (its merchant, admin); 409 started"""
    game = service.get_game(game_id)
    return dump_game(service.edit_game(_user(), game, **data.changes()), _user())


@endpoint(
    "/guess-games/<int:game_id>/guesses",
    "POST",
    body=GuessBody,
    status=201,
    errors=(409, 429),
    response=GuessResult,
)
def submit_guess(game_id: int, data: GuessBody):
    """Guess (costs points); 409 limit_reached / ended / insufficient_points"""
    return service.submit_guess(_user(), service.get_game(game_id), data.amount_cents)


@endpoint("/guess-games/<int:game_id>/close", "POST", response=GuessGame)
def close_guess_game(game_id: int):
    """Close the game now and compute the winner (its merchant, admin)"""
    game = service.close_game(_user(), service.get_game(game_id))
    return dump_game(game, _user())


# --- reminders -----------------------------------------------------------------------


@endpoint("/reminders", "POST", body=ReminderBody, status=201, errors=(404, 409), response=Reminder)
def remind_me(data: ReminderBody):
    """Remind me when a snap-up or auction starts, or before a game closes"""
    return dump_reminder(service.remind_me(_user(), data.kind, data.id))
