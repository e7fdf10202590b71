"""The [[auction:ID]] and [[guess:ID]] widgets for posts and chat, and who may watch them.

Loading (``widgets.load_offers``) is one small statement per page when every widget's
state is kept (``widget_state``), else that and the ORM load of the others; every number
comes from the server (the price from its clock). The guess widget never shows an amount
before the close, to anyone; the viewer's own guesses are fetched by games.js from the
API (chat renders a message once for a whole room, so the widget itself is never
personal).
"""

from datetime import datetime

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import select

from ... import embeds
from ... import widget_shells as shells
from ...clock import now
from ...extensions import db
from ...shop_embed import service as shop
from ..models import Auction, GuessGame
from . import auctions, guessing, widget_state
from .common import offer_state


def listed(offer) -> bool:
    """The offer's product is still shown: not archived, not hidden by moderation (its
    widget, also on the offer's own page, is then the "unavailable" card)."""
    return offer.product.archived_at is None and offer.product.hidden_at is None


def auctions_loaded(ids: list[int], at: datetime) -> list[Auction]:
    """The auctions (product still listed) with their product, merchant and live sales: two queries
    for the page (``widget_state`` answers first; this loads the ones it has not kept)."""
    rows = db.session.scalars(
        select(Auction).options(shop.with_merchant(Auction.product)).where(Auction.id.in_(ids))
    ).all()
    rows = [a for a in rows if listed(a)]
    sales = auctions.live_sales([a.id for a in rows]) if rows else {}
    for auction in rows:
        auction.shown_sales = sales[auction.id]  # one query for the page, not one per widget
    return rows


def _auction_clock(live: dict, auction: Auction, next_drop) -> widget_state.Countdown:
    if live["state"] == "upcoming":
        return widget_state.Countdown("clock", "Starts in {}", auction.starts_at)
    if live["state"] == "live" and next_drop:
        return widget_state.Countdown("clock", "Next drop in {}", next_drop)
    if live["state"] == "live":
        return widget_state.Countdown("clock", "At the floor: last call")
    return widget_state.Countdown("clock", "Ended")


def _auction_until(auction: Auction, live: dict, next_drop, at) -> datetime | None:
    """When the clock alone changes what the widget shows: the start, the next drop, the
    end, or a pending payment lapsing (its unit comes back)."""
    deadlines = [s.expires_at for s in auction.shown_sales if s.status == "pending"]
    return widget_state.first_after(
        at, auction.starts_at, next_drop, auction.closes_at(), *deadlines
    )


def render_auction(auction, context: embeds.EmbedContext, href: str) -> Markup:
    """The widget: its shell rendered once per state (``widget_state`` on a page,
    ``forum.widget_shells`` by value elsewhere), the clock and the link filled in."""
    at = now()
    if isinstance(auction, widget_state.Shown):
        return auction.render(at, href)
    live = auctions.auction_payload(auction, at, getattr(auction, "shown_sales", None))
    next_drop = auctions.next_drop_at(auction, at)
    countdown = _auction_clock(live, auction, next_drop)

    def build(link) -> str:
        return render_template(
            "promotions/_auction.html",
            auction=auction,
            live=live,
            href=link,
            room=auctions.auction_room(auction.id),
            server_now=shells.slot("now"),
            clock=shells.slot("clock"),
        )

    key = getattr(auction, "shown_key", None)
    if key is not None:
        until = _auction_until(auction, live, next_drop, at)
        shown = widget_state.keep(key, auction, build(shells.slot("href")), until, [countdown])
        return shown.render(at, href)
    window = current_app.config.get("AUCTION_PAYMENT_WINDOW_MINUTES", 10)
    key = ("auction", offer_state(auction), shells.frozen(live), href, window)
    clock = countdown.text.format(
        shells.time_left(countdown.target, at) if countdown.target else ""
    )
    return shells.render(key, lambda: build(href), {"now": at.isoformat(), "clock": clock})


def games_loaded(ids: list[int], at: datetime) -> list[GuessGame]:
    """The games (product still listed) with their product and merchant."""
    rows = db.session.scalars(
        select(GuessGame)
        .options(shop.with_merchant(GuessGame.product))
        .where(GuessGame.id.in_(ids))
    ).all()
    return [game for game in rows if listed(game)]


def render_game(game, context: embeds.EmbedContext, href: str) -> Markup:
    """The widget: its shell rendered once per state, the clock and the link filled in.

    The chart of a closed game is only built with its shell (the guesses no longer change);
    a closed game's state is never kept by ``widget_state`` (its winner moves with payment
    deadlines), only by value."""
    at = now()
    if isinstance(game, widget_state.Shown):
        return game.render(at, href)
    live = guessing.game_payload(game)
    closed = live["state"] == "closed"

    def build(link) -> str:
        return render_template(
            "promotions/_guess.html",
            game=game,
            live=live,
            chart=guessing.chart_data(game) if closed else None,
            href=link,
            room=guessing.game_room(game.id),
            server_now=shells.slot("now"),
            clock=shells.slot("clock"),
        )

    key = getattr(game, "shown_key", None)
    if key is not None and not closed:
        countdown = widget_state.Countdown("clock", "Closes in {}", game.closes_at())
        shown = widget_state.keep(
            key, game, build(shells.slot("href")), game.closes_at(), [countdown]
        )
        return shown.render(at, href)
    key = ("guess", offer_state(game), shells.frozen(live), href)
    clock = "Closed" if closed else f"Closes in {shells.time_left(game.closes_at(), at)}"
    return shells.render(key, lambda: build(href), {"now": at.isoformat(), "clock": clock})


def may_watch_auction(kind: str, *, user, ident: int) -> bool:
    return db.session.get(Auction, ident) is not None


def may_watch_game(kind: str, *, user, ident: int) -> bool:
    # Anyone may watch: the room only ever carries the count of guesses and, after the
    # close, the result.
    return db.session.get(GuessGame, ident) is not None
