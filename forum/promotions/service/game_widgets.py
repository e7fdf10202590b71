"""The [[auction:ID]] and [[guess:ID]] widgets for posts and chat, and who may watch them.

Loading is one query per kind per page; every number comes from the server (the price
from its clock). The guess widget never shows an amount before the close, to anyone;
the viewer's own guesses are fetched by games.js from the API (chat renders a message
once for a whole room, so the widget itself is never personal).
"""

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import select

from ... import embeds
from ... import widget_shells as shells
from ...clock import now
from ...extensions import db
from ...shop_embed import service as shop
from ..models import Auction, GuessGame
from . import auctions, guessing
from .common import offer_state


def load_auctions(ids: list[int]) -> dict[int, Auction]:
    """The page's auctions with their product, merchant and live sales: two queries."""
    rows = db.session.scalars(
        select(Auction).options(shop.with_merchant(Auction.product)).where(Auction.id.in_(ids))
    ).all()
    rows = [a for a in rows if a.product.archived_at is None]
    sales = auctions.live_sales([a.id for a in rows]) if rows else {}
    for auction in rows:
        auction.shown_sales = sales[auction.id]  # one query for the page, not one per widget
    return {a.id: a for a in rows}


def _auction_clock(live: dict, auction: Auction, next_drop, at) -> str:
    if live["state"] == "upcoming":
        return f"Starts in {shells.time_left(auction.starts_at, at)}"
    if live["state"] == "live" and next_drop:
        return f"Next drop in {shells.time_left(next_drop, at)}"
    if live["state"] == "live":
        return "At the floor: last call"
    return "Ended"


def render_auction(auction: Auction, context: embeds.EmbedContext, href: str) -> Markup:
    """The widget: its shell rendered once per state (``forum.widget_shells``), the clock filled in."""
    at = now()
    live = auctions.auction_payload(auction, at, getattr(auction, "shown_sales", None))
    next_drop = auctions.next_drop_at(auction, at)
    window = current_app.config.get("AUCTION_PAYMENT_WINDOW_MINUTES", 10)
    key = ("auction", offer_state(auction), shells.frozen(live), href, window)
    return shells.render(
        key,
        lambda: render_template(
            "promotions/_auction.html",
            auction=auction,
            live=live,
            href=href,
            room=auctions.auction_room(auction.id),
            server_now=shells.slot("now"),
            clock=shells.slot("clock"),
        ),
        {"now": at.isoformat(), "clock": _auction_clock(live, auction, next_drop, at)},
    )


def load_games(ids: list[int]) -> dict[int, GuessGame]:
    rows = db.session.scalars(
        select(GuessGame)
        .options(shop.with_merchant(GuessGame.product))
        .where(GuessGame.id.in_(ids))
    ).all()
    return {g.id: g for g in rows if g.product.archived_at is None}


def render_game(game: GuessGame, context: embeds.EmbedContext, href: str) -> Markup:
    """The widget: its shell rendered once per state (``forum.widget_shells``), the clock filled in.

    The chart of a closed game is only built with its shell (the guesses no longer change)."""
    at = now()
    live = guessing.game_payload(game)
    closed = live["state"] == "closed"
    key = ("guess", offer_state(game), shells.frozen(live), href)
    clock = "Closed" if closed else f"Closes in {shells.time_left(game.closes_at(), at)}"
    return shells.render(
        key,
        lambda: render_template(
            "promotions/_guess.html",
            game=game,
            live=live,
            chart=guessing.chart_data(game) if closed else None,
            href=href,
            room=guessing.game_room(game.id),
            server_now=shells.slot("now"),
            clock=shells.slot("clock"),
        ),
        {"now": at.isoformat(), "clock": clock},
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
