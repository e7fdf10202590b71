"""The [[auction:ID]] and [[guess:ID]] widgets for posts and chat, and who may watch them.

Loading is one query per kind per page; every number comes from the server (the price
from its clock). The guess widget never shows an amount before the close, to anyone;
the viewer's own guesses are fetched by games.js from the API (chat renders a message
once for a whole room, so the widget itself is never personal).
"""

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select

from ... import embeds
from ...clock import now
from ...extensions import db
from ...shop_embed import service as shop
from ..models import Auction, GuessGame
from . import auctions, guessing


def load_auctions(ids: list[int]) -> dict[int, Auction]:
    rows = db.session.scalars(
        select(Auction).options(shop.with_merchant(Auction.product)).where(Auction.id.in_(ids))
    ).all()
    return {a.id: a for a in rows if a.product.archived_at is None}


def render_auction(auction: Auction, context: embeds.EmbedContext, href: str) -> Markup:
    at = now()
    return Markup(  # noqa: S704 (a trusted template, autoescaped)
        render_template(
            "promotions/_auction.html",
            auction=auction,
            live=auctions.auction_payload(auction, at),
            next_drop=auctions.next_drop_at(auction, at),
            href=href,
            room=auctions.auction_room(auction.id),
            at=at,
        )
    )


def load_games(ids: list[int]) -> dict[int, GuessGame]:
    rows = db.session.scalars(
        select(GuessGame)
        .options(shop.with_merchant(GuessGame.product))
        .where(GuessGame.id.in_(ids))
    ).all()
    return {g.id: g for g in rows if g.product.archived_at is None}


def render_game(game: GuessGame, context: embeds.EmbedContext, href: str) -> Markup:
    at = now()
    closed = guessing.state_of(game, at) == "closed"
    return Markup(  # noqa: S704 (a trusted template, autoescaped)
        render_template(
            "promotions/_guess.html",
            game=game,
            live=guessing.game_payload(game),
            chart=guessing.chart_data(game) if closed else None,
            href=href,
            room=guessing.game_room(game.id),
            at=at,
        )
    )


AUCTION_WIDGET = embeds.WidgetKind(
    kind="auction", load=load_auctions, render=render_auction, url=auctions.auction_url
)
GAME_WIDGET = embeds.WidgetKind(
    kind="guess", load=load_games, render=render_game, url=guessing.game_url
)


def auction_widget(kind: str) -> embeds.WidgetKind:
    """The ``signals.widget_for`` answer for ``[[auction:ID]]``."""
    return AUCTION_WIDGET


def game_widget(kind: str) -> embeds.WidgetKind:
    """The ``signals.widget_for`` answer for ``[[guess:ID]]``."""
    return GAME_WIDGET


def may_watch_auction(kind: str, *, user, ident: int) -> bool:
    return db.session.get(Auction, ident) is not None


def may_watch_game(kind: str, *, user, ident: int) -> bool:
    # Anyone may watch: the room only ever carries the count of guesses and, after the
    # close, the result.
    return db.session.get(GuessGame, ident) is not None
