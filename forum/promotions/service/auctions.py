"""Dutch auctions: N units whose price falls on the server's clock until they are taken.

The price is a pure function of the auction row and the server's clock
(``price_at``); no job moves it. "Take it now" buys ONE unit at the price of the
moment the server takes it, never a price the client sends:

1. lapsed unpaid sales of this auction are cancelled first (their units come back);
2. ONE conditional UPDATE takes a unit: ``units_left >= 1`` and running. It also
   holds the auction row until commit, so every taker of this auction queues here;
3. under that lock the member's live sales are counted against ``per_user_limit``
   (every session and token of an account is the same user id, so the limit holds
   across all of them), and the clock is read again: that is the sale's price;
4. the order is placed through the shop (``place_order``: the stock, the
   Idempotency-Key, the short payment window) at that price.

Lock order (PostgreSQL never deadlocks): orders (ascending), then the auction row,
then the product row. ``give_back`` runs inside an order's cancel/expire/refund
(order locked), updates the auction row, and only then does the shop touch products.

An unpaid sale lapses after AUCTION_PAYMENT_WINDOW_MINUTES (default 10): the shop
cancels the order and its unit returns to ``units_left``; readers count a lapsed,
not yet cancelled sale's unit as available already, and the price simply resumes
where the clock says.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ... import realtime
from ...clock import now
from ...database import first_ids
from ...errors import Conflict
from ...extensions import db
from ...money import Money
from ...shop_embed import service as shop
from ...trust import service as trust
from ..models import Auction, AuctionSale
from . import holds
from .common import (
    AUCTIONS,
    MAX_CAMPAIGN,
    check_can_act,
    check_units,
    create_offer,
    end_promotion,
    promo_price,
    read_time,
    stamp_once,
    whole,
)
from .edits import edit_offer, editable
from .placements import post_result

KIND = "auction"
NOUN = "auction"
get_auction, auctions_of = AUCTIONS.get, AUCTIONS.of
auction_url, auction_room = AUCTIONS.url, AUCTIONS.room
MIN_INTERVAL, MAX_INTERVAL = 5, 24 * 3600  # seconds between drops
MAX_DROPS = 10_000


def payment_window() -> timedelta:
    """How long an auction order waits for payment (AUCTION_PAYMENT_WINDOW_MINUTES)."""
    return holds.payment_window("AUCTION_PAYMENT_WINDOW_MINUTES")


# --- the price on the clock ----------------------------------------------------------


def drops_to_floor(start: int, floor: int, drop: int) -> int:
    return math.ceil((start - floor) / drop)


def price_at(auction: Auction, at: datetime) -> int:
    """The price at ``at``: the start price until the first drop, then ``drop_cents`` less
    per interval, never below the floor."""
    if at <= auction.starts_at:
        return auction.start_price_cents
    drops = int((at - auction.starts_at).total_seconds() // auction.drop_every_seconds)
    return max(auction.floor_price_cents, auction.start_price_cents - drops * auction.drop_cents)


def next_drop_at(auction: Auction, at: datetime) -> datetime | None:
    """When the price falls next (None once it stands at the floor or the auction is over)."""
    if at >= auction.closes_at():
        return None
    if price_at(auction, at) <= auction.floor_price_cents:
        return None
    if at < auction.starts_at:
        return auction.starts_at + timedelta(seconds=auction.drop_every_seconds)
    drops = int((at - auction.starts_at).total_seconds() // auction.drop_every_seconds)
    return auction.starts_at + timedelta(seconds=(drops + 1) * auction.drop_every_seconds)


# --- campaigns -----------------------------------------------------------------------


TERMS = (
    "units",
    "start_price_cents",
    "floor_price_cents",
    "drop_cents",
    "drop_every_seconds",
    "starts_at",
    "per_user_limit",
)
"""What a merchant sets (and may change until the start): create's and edit's fields."""


def auction_terms(product, at: datetime, errors: dict, **terms) -> dict:
    """The checked columns of an auction of ``product`` from its ``TERMS`` (``units_left``
    and ``ends_at`` included: it ends one interval after the price reaches the floor, the
    floor holding for that last interval, within 90 days); problems go to ``errors``."""
    count, limit = check_units(terms["units"], "units", terms["per_user_limit"], product, errors)
    start = promo_price(terms["start_price_cents"], "start_price_cents", product, errors)
    floor = whole(
        terms["floor_price_cents"],
        "floor_price_cents",
        0,
        shop.MAX_PRICE_CENTS,
        "Use whole cents.",
        errors,
    )
    if start is not None and floor is not None and floor >= start:
        errors.setdefault("floor_price_cents", []).append(
            "The floor must be below the start price."
        )
        floor = None
    drop = whole(
        terms["drop_cents"], "drop_cents", 1, shop.MAX_PRICE_CENTS, "Drop by whole cents.", errors
    )
    every = whole(
        terms["drop_every_seconds"],
        "drop_every_seconds",
        MIN_INTERVAL,
        MAX_INTERVAL,
        f"Drop every {MIN_INTERVAL} seconds to 24 hours.",
        errors,
    )
    begin = read_time("starts_at", terms["starts_at"], errors)
    end = None
    if None not in (start, floor, drop, every, begin):
        drops = drops_to_floor(start, floor, drop)
        if drops > MAX_DROPS:
            errors.setdefault("drop_cents", []).append("That makes too many drops; drop more.")
        else:
            end = begin + timedelta(seconds=(drops + 1) * every)
            if end <= at:
                errors.setdefault("starts_at", []).append("The auction would be over already.")
            elif begin > at + MAX_CAMPAIGN or end - begin > MAX_CAMPAIGN:
                errors.setdefault("starts_at", []).append("Run it within the next 90 days.")
    return {
        "units": count,
        "units_left": count,
        "start_price_cents": start,
        "floor_price_cents": floor,
        "drop_cents": drop,
        "drop_every_seconds": every,
        "per_user_limit": limit,
        "starts_at": begin,
        "ends_at": end,
    }


def create_auction(actor, *, product_id, **terms) -> Auction:
    """A new Dutch auction of one of ``actor``'s products (``TERMS``, as ``auction_terms``
    checks them). Raises Forbidden or ValidationFailed."""
    return create_offer(actor, Auction, product_id, auction_terms, terms)


def not_started(at: datetime):
    """An auction still open to edits at ``at``: before its start, never ended, nothing
    taken (``units_left = units`` on the row itself, what a take's guard moves)."""
    return (
        (Auction.starts_at > at)
        & Auction.ended_at.is_(None)
        & (Auction.units_left == Auction.units)
        & ~select(AuctionSale.id).where(AuctionSale.auction_id == Auction.id).exists()
    )


def auction_editable(auction: Auction) -> bool:
    """Whether its merchant may still change it (nothing taken or guessed, not started)."""
    return editable(auction, not_started)


def edit_auction(actor, auction: Auction, **changes) -> Auction:
    """Change the ``TERMS`` named in ``changes`` (the others stay) of an auction that has not
    started; checked as create checks them. Raises Forbidden (not its shop or an admin),
    ValidationFailed, Conflict ``started`` (live, ended or a unit taken).

    The change is one conditional UPDATE (``not_started``): a take's guard and this one
    lock the same row, so an edit racing the start or the first take either lands before
    it (the take then sees the new terms) or is refused."""
    return edit_offer(
        actor,
        auction,
        changes,
        kind=KIND,
        noun=NOUN,
        terms=TERMS,
        unstarted=not_started,
        check=lambda at, errors, merged: auction_terms(auction.product, at, errors, **merged),
        announce=_announce,
    )


def end_auction(actor, auction: Auction) -> Auction:
    """End an auction now (its shop or an admin). Sales already made stay; twice is a no-op."""
    end_promotion(actor, Auction, auction, now())
    _announce(auction)
    return auction


# --- reading -------------------------------------------------------------------------


def _lapsed_units(ids: list[int]) -> dict[int, int]:
    """Per auction: units in unpaid sales past their window not given back yet."""
    return holds.units_in(
        AuctionSale.auction_id, func.count(AuctionSale.id), ids, shop.overdue_order_ids()
    )


def _pending_units(ids: list[int]) -> dict[int, int]:
    """Per auction: units in sales still inside their payment window."""
    return holds.units_in(
        AuctionSale.auction_id, func.count(AuctionSale.id), ids, shop.unpaid_order_ids()
    )


def units_left(auctions: list[Auction]) -> dict[int, int]:
    """What can still be taken per auction, counting lapsed unpaid sales as back (one query)."""
    lapsed = _lapsed_units([a.id for a in auctions])
    return {a.id: a.units_left + lapsed.get(a.id, 0) for a in auctions}


def state_of(auction: Auction, left: int, at: datetime, pending: int = 0) -> str:
    """upcoming | live | ended; sold out (nothing left and nothing that may come back) is ended."""
    if at >= auction.closes_at():
        return "ended"
    if at < auction.starts_at:
        return "upcoming"
    if left <= 0 and pending <= 0:
        return "ended"
    return "live"


def last_sale(auction: Auction) -> AuctionSale | None:
    return db.session.scalar(
        select(AuctionSale)
        .where(AuctionSale.auction_id == auction.id, AuctionSale.returned_at.is_(None))
        .order_by(AuctionSale.id.desc())
        .limit(1)
    )


def taken_by(user, auction: Auction) -> int:
    """Units ``user`` holds of ``auction`` (pending or paid, not given back)."""
    if not user or not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(
        select(func.count(AuctionSale.id)).where(
            AuctionSale.auction_id == auction.id,
            AuctionSale.user_id == user.id,
            AuctionSale.returned_at.is_(None),
        )
    )


def sold_prices(auction: Auction) -> list[int]:
    """Prices of the units sold for good (paid or further), in the order they were taken."""
    return list(
        db.session.scalars(
            select(AuctionSale.price_cents)
            .where(
                AuctionSale.auction_id == auction.id,
                AuctionSale.returned_at.is_(None),
                AuctionSale.order_id.in_(shop.paid_order_ids()),
            )
            .order_by(AuctionSale.id)
        )
    )


def live_sales(auction_ids: list[int]) -> dict[int, list]:
    """Each auction's sales not given back, newest first, with their order's status and
    deadline: one query for every auction of a page (at most ``units`` rows each); the
    order columns come from the shop's ``order_deadlines`` joined as a subquery."""
    live = (AuctionSale.auction_id.in_(auction_ids), AuctionSale.returned_at.is_(None))
    orders = shop.order_deadlines(select(AuctionSale.order_id).where(*live)).subquery()
    found: dict[int, list] = {ident: [] for ident in auction_ids}
    for row in db.session.execute(
        select(
            AuctionSale.auction_id,
            AuctionSale.price_cents,
            AuctionSale.created_at,
            orders.c.status,
            orders.c.expires_at,
        )
        .join(orders, orders.c.id == AuctionSale.order_id)
        .where(*live)
        .order_by(AuctionSale.id.desc())
    ):
        found[row.auction_id].append(row)
    return found


def auction_payload(
    auction: Auction, at: datetime | None = None, sales: list | None = None
) -> dict:
    """What the widget and the API show now: price and state from the server's clock.

    ``sales`` are the auction's ``live_sales`` when the caller fetched them for a page."""
    at = at or now()
    if sales is None:
        sales = live_sales([auction.id])[auction.id]
    unpaid = [s for s in sales if s.status == "pending"]
    lapsed = sum(1 for s in unpaid if s.expires_at is not None and s.expires_at <= at)
    left = auction.units_left + lapsed
    pending = len(unpaid) - lapsed
    state = state_of(auction, left, at, pending)
    drop = next_drop_at(auction, at) if state != "ended" else None
    sale = sales[0] if sales else None
    return {
        "kind": "auction",
        "id": auction.id,
        "state": state,
        "price_cents": price_at(auction, min(at, auction.closes_at())),
        "next_drop_at": drop.isoformat() if drop else None,
        "units": auction.units,
        "units_left": left,
        "floor_price_cents": auction.floor_price_cents,
        "start_price_cents": auction.start_price_cents,
        "starts_at": auction.starts_at.isoformat(),
        "ends_at": auction.closes_at().isoformat(),
        "last_sale": (
            {"price_cents": sale.price_cents, "at": sale.created_at.isoformat()} if sale else None
        ),
        "server_now": at.isoformat(),
    }


def _announce(auction: Auction) -> None:
    realtime.announce("auction_state", auction_payload(auction), room=auction_room(auction.id))


# --- taking a unit -------------------------------------------------------------------


def _sold_out() -> Conflict:
    return Conflict("Every unit is taken.", code="sold_out")


def _limit_reached(auction: Auction) -> Conflict:
    return Conflict(
        f"You can take at most {auction.per_user_limit} of this auction.", code="limit_reached"
    )


def take(user, auction: Auction, *, idempotency_key=None, shipping_address=None):
    """Take one unit at the price of this moment; returns (pending order, replayed).

    Raises Conflict ``not_started`` / ``ended`` / ``sold_out`` / ``limit_reached`` (and
    the shop's ``too_many_pending_orders``), Forbidden (suspended), ValidationFailed
    (key, address). On a refusal nothing is written (the caller rolls back).
    """
    check_can_act(user)
    trust.check_commerce(user, "auction")
    key, first, at = holds.begin_take(
        user, idempotency_key, AuctionSale, AuctionSale.auction_id, auction, NOUN
    )
    if first is not None:
        return first, True
    holds.return_lapsed(AuctionSale, AuctionSale.auction_id, auction.id)
    # Cheap refusals (reads, nothing locked); the guards below decide.
    if taken_by(user, auction) >= auction.per_user_limit:
        raise _limit_reached(auction)
    if db.session.scalar(select(Auction.units_left).where(Auction.id == auction.id)) < 1:
        raise _sold_out()
    if holds.take_units(Auction, Auction.units_left, auction.id, 1, at) is None:
        db.session.refresh(auction)
        raise holds.time_refusal(auction, now(), NOUN) or _sold_out()
    # Read the terms under the lock: a merchant's edit may have landed since we loaded them.
    db.session.refresh(auction)
    # The auction row is ours until commit: another taker of it waits, so these reads
    # see every sale committed before us (PostgreSQL reads committed data per statement).
    if taken_by(user, auction) >= auction.per_user_limit:
        raise _limit_reached(auction)
    taken_at = now()
    if taken_at >= auction.closes_at():
        raise Conflict("This auction has ended.", code="ended")
    price = price_at(auction, taken_at)
    order, replayed = holds.place_held_order(
        user,
        auction.product_id,
        1,
        kind=KIND,
        price=price,
        pay_within=payment_window(),
        key=key,
        shipping_address=shipping_address,
        sold_out=_sold_out,
    )
    if replayed:  # a concurrent twin with the same key committed first: give our unit back
        holds.put_back(Auction, Auction.units_left, auction.id, 1)
        return holds.replayed(order, AuctionSale, AuctionSale.auction_id, auction.id), True
    db.session.add(
        AuctionSale(
            auction_id=auction.id,
            user_id=user.id,
            order_id=order.id,
            price_cents=price,
            created_at=taken_at,
        )
    )
    db.session.flush()
    db.session.refresh(auction)
    _announce(auction)
    return order, False


def give_back(order, *, event, **_) -> None:
    """``signals.order_changed``: an auction order cancelled (or unpaid past its window) or
    refunded gives its unit back to the auction, exactly once (``returned_at``)."""
    sale = holds.returnable(AuctionSale, order, event, KIND)
    if sale is None or not holds.mark_returned(AuctionSale, sale):
        return
    holds.put_back(Auction, Auction.units_left, sale.auction_id, 1)
    auction = db.session.get(Auction, sale.auction_id)
    db.session.refresh(auction)
    _announce(auction)


# --- the end -------------------------------------------------------------------------


def result_line(auction: Auction, prices: list[int]) -> str:
    name = auction.product.name
    if not prices:
        return f"The Dutch auction for {name} has ended: no units sold."
    high = Money(max(prices), auction.currency).plain("en")
    low = Money(min(prices), auction.currency).plain("en")
    span = high if high == low else f"{high}-{low}"
    units = "1 unit" if len(prices) == 1 else f"{len(prices)} units"
    return f"The Dutch auction for {name} has ended: {units} sold at {span}."


def finish(auction: Auction) -> bool:
    """Post the result line where the auction was embedded, once, when it is over for good
    (closed or sold out, with no sale still inside its payment window). Idempotent."""
    at = now()
    if auction.result_posted_at is not None:
        return False
    left = units_left([auction])[auction.id]
    pending = _pending_units([auction.id]).get(auction.id, 0)
    if pending or state_of(auction, left, at, pending) != "ended":
        return False
    if not stamp_once(Auction.result_posted_at, auction.id, at):
        return False
    db.session.refresh(auction)
    post_result(
        KIND, auction.id, auction.merchant.user_id, result_line(auction, sold_prices(auction))
    )
    _announce(auction)
    return True


def due_auctions(limit: int = 100) -> list[int]:
    """Auctions whose result may be due: not posted, and closed or with no unit left."""
    at = now()
    return first_ids(
        Auction.id,
        Auction.result_posted_at.is_(None),
        (Auction.ends_at <= at) | Auction.ended_at.is_not(None) | (Auction.units_left == 0),
        limit=limit,
    )
