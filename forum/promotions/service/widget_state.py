"""A page's auction, game and group-buy widgets in one small statement.

A widget's shell (``forum.widget_shells``) is kept under a *state key*: the values one
Core statement (``together_statement``: each kind's part, ``UNION ALL``) reads for every
widget of the page (the offer's whole row, the
product and shop its head shows, and what it shows of its sales or teams, aggregated),
the locale and the settings the template reads. Nothing is bumped: a take, a payment, a
returned unit, a join, a guess, a close or an edited product is another key, so several
server processes never disagree and nothing needs invalidating.

What the clock alone changes (the price at the next drop, the start, the end, a pending
payment lapsing, a team expiring) is ``until``: the first instant the shell may be wrong
without any row changing; from then on the state is rebuilt. The countdown texts and
the server's time are slots filled per request, and so is the link (the same shell
serves every post embedding the widget).

A kept state is a ``Shown``: the shell, and what other readers of ``embeds.target``
use (the id, the product's name, the shop's user id: attribution's owner and label,
campaigns' label). When every widget of a page is kept, the page costs that one statement
and no ORM object; otherwise the missing ones are loaded and rendered as before.
Closed guessing games (their winner moves with payment deadlines) and a member's own
teams are never kept.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import Select, String, bindparam, case, cast, func, literal, null, select, union_all

from ... import widget_shells as shells
from ...extensions import db
from ...money import viewer_locale
from ...shop_embed import service as shop
from ..models import Auction, AuctionSale, GroupBuy, GuessGame, Team
from .teams import WIDGET_TEAMS, forming_rank, listed_forming


@dataclass(frozen=True)
class ShownProduct:
    name: str


@dataclass(frozen=True)
class ShownMerchant:
    user_id: int


@dataclass(frozen=True)
class Countdown:
    """A clock slot: ``text`` with ``{}`` replaced by the time left until ``target``."""

    slot: str
    text: str
    target: datetime | None = None


_HEAD, _TAIL = str(shells.slot("NAME")).split("NAME")
_SLOTS = re.compile(re.escape(_HEAD) + r"([A-Za-z0-9_:-]+)" + re.escape(_TAIL))
"""A shell's slots (``widget_shells.slot``), the name captured: ``split`` alternates
text and slot names."""


@dataclass(frozen=True)
class Shown:
    """A widget state as kept: its shell and what ``embeds.target``'s readers need.

    ``pieces`` is the shell cut at its slots once, when kept: text, slot name, text...,
    so a render joins strings instead of scanning the whole shell for its slots."""

    kind: str
    id: int
    product: ShownProduct
    merchant: ShownMerchant
    html: str
    until: datetime | None
    countdowns: tuple[Countdown, ...]
    pieces: tuple[str, ...]

    def render(self, at: datetime, href: str, **values: str) -> Markup:
        filled = {"now": at.isoformat(), "href": href, **values}
        for countdown in self.countdowns:
            left = shells.time_left(countdown.target, at) if countdown.target else ""
            filled[countdown.slot] = countdown.text.format(left)
        pieces = self.pieces
        out = [
            piece if n % 2 == 0 else str(escape(filled.get(piece, "")))
            for n, piece in enumerate(pieces)
        ]
        return Markup("".join(out))  # noqa: S704 (a trusted template's output, slot values escaped)


def _ids(kind: str):
    return bindparam(f"ids_{kind}", expanding=True)


def _heads():
    return shop.product_heads().subquery()


def _head_columns(heads) -> tuple:
    return (
        heads.c.name.label("product_name"),
        heads.c.price_cents.label("product_price_cents"),
        heads.c.currency.label("product_currency"),
        heads.c.merchant_name,
        heads.c.merchant_user_id,
    )


def _listed(heads) -> tuple:
    """A widget shows its offer only while the product is listed: not archived, not hidden."""
    return (heads.c.archived_at.is_(None), heads.c.hidden_at.is_(None))


@cache
def auction_statement() -> Select:
    """Each auction's row, its product head and its live sales (count, the newest, how many
    wait for payment and the first of their deadlines)."""
    heads = _heads()
    orders = shop.order_deadlines().subquery()
    pending = orders.c.status == "pending"
    sales = (
        select(
            AuctionSale.auction_id,
            func.count().label("sales"),
            func.max(AuctionSale.id).label("last_sale_id"),
            func.sum(case((pending, 1), else_=0)).label("pending"),
            func.min(case((pending, orders.c.expires_at))).label("first_deadline"),
        )
        .join(orders, orders.c.id == AuctionSale.order_id)
        .where(AuctionSale.auction_id.in_(_ids("auction")), AuctionSale.returned_at.is_(None))
        .group_by(AuctionSale.auction_id)
        .subquery()
    )
    return (
        select(
            Auction.__table__,
            *_head_columns(heads),
            sales.c.sales,
            sales.c.last_sale_id,
            sales.c.pending,
            sales.c.first_deadline,
        )
        .join(heads, heads.c.id == Auction.product_id)
        .outerjoin(sales, sales.c.auction_id == Auction.id)
        .where(
            Auction.id.in_(_ids("auction")),
            *_listed(heads),
        )
    )


@cache
def game_statement() -> Select:
    """Each game's row (its guess count included) and its product head."""
    heads = _heads()
    return (
        select(GuessGame.__table__, *_head_columns(heads))
        .join(heads, heads.c.id == GuessGame.product_id)
        .where(
            GuessGame.id.in_(_ids("guess")),
            *_listed(heads),
        )
    )


@cache
def group_buy_statement() -> Select:
    """Each group-buy's row and product head, with the forming teams its widget lists (as
    ``teams.forming_teams_of`` ranks them): one row per listed team, or one without."""
    heads = _heads()
    rank = forming_rank()
    teams = (
        select(
            Team.id.label("team_id"),
            Team.group_buy_id,
            Team.leader_id,
            Team.size.label("team_size_now"),
            Team.members,
            Team.virtual_members,
            Team.expires_at.label("team_expires_at"),
            rank,
        )
        .where(
            Team.group_buy_id.in_(_ids("groupbuy")),
            *listed_forming(bindparam("at")),
        )
        .subquery()
    )
    return (
        select(
            GroupBuy.__table__,
            *_head_columns(heads),
            teams.c.team_id,
            teams.c.leader_id,
            teams.c.team_size_now,
            teams.c.members,
            teams.c.virtual_members,
            teams.c.team_expires_at,
        )
        .join(heads, heads.c.id == GroupBuy.product_id)
        .outerjoin(teams, (teams.c.group_buy_id == GroupBuy.id) & (teams.c.rank <= WIDGET_TEAMS))
        .where(
            GroupBuy.id.in_(_ids("groupbuy")),
            *_listed(heads),
        )
    )


STATEMENTS = {
    "auction": auction_statement,
    "guess": game_statement,
    "groupbuy": group_buy_statement,
}
_WIDTH = 32  # text columns of the widest kind's state, and room to grow


@cache
def together_statement(kinds: tuple[str, ...]):
    """One statement for the page's kinds: each kind's state as ``(kind, id, text...)``
    (every value cast to text, padded with NULLs), ``UNION ALL``. Text is all a key needs,
    and it spares the datetime parsing of typed columns."""
    branches = []
    for kind in kinds:
        statement = STATEMENTS[kind]()
        values = [cast(column, String) for column in statement.selected_columns]
        values += [cast(null(), String)] * (_WIDTH - len(values))
        branches.append(
            statement.with_only_columns(
                literal(kind, String).label("kind"),
                statement.selected_columns[0].label("widget_id"),  # the offer's id
                *(value.label(f"v{n}") for n, value in enumerate(values)),
                maintain_column_froms=False,
            )
        )
    return branches[0] if len(branches) == 1 else union_all(*branches)


@lru_cache(maxsize=64)
def _compiled(kinds: tuple[str, ...], dialect):
    """``together_statement(kinds)`` compiled once per dialect (an app's engine): executed as
    it is, it spares the per-call cache key of a large UNION (about a third of its cost);
    the expanding IN lists are still filled in per call."""
    return together_statement(kinds).compile(dialect=dialect)


def states_of(wanted: dict[str, list[int]], at: datetime) -> dict[str, dict[int, tuple]]:
    """Each found widget's state key, per kind: one statement for every kind in ``wanted``
    (the rows of one widget, its listed teams, fold into one key)."""
    kinds = tuple(sorted(kind for kind, ids in wanted.items() if ids and kind in STATEMENTS))
    found: dict[str, dict[int, list[tuple]]] = {kind: {} for kind in wanted}
    if kinds:
        params: dict = {f"ids_{kind}": wanted[kind] for kind in kinds}
        # Core on the session's connection (its transaction, after a flush of anything
        # pending): half the cost of an ORM-enabled session.execute.
        db.session.flush()
        connection = db.session.connection()
        compiled = _compiled(kinds, connection.dialect)
        for row in connection.execute(compiled, {**params, "at": at}):
            found[row[0]].setdefault(row[1], []).append(tuple(row[2:]))
    settings = (
        str(viewer_locale()),
        current_app.config.get("AUCTION_PAYMENT_WINDOW_MINUTES", 10),
    )
    return {
        kind: {
            ident: (kind, tuple(rows if len(rows) == 1 else sorted(rows, key=repr)), settings)
            for ident, rows in by_id.items()
        }
        for kind, by_id in found.items()
    }


def confirmed(keys: dict[str, dict[int, tuple]], at: datetime) -> dict[str, dict[int, tuple]]:
    """The keys still current after the missing widgets were loaded: a widget whose rows
    changed between the two reads is rendered but not kept (its shell would show a newer
    state under the older key)."""
    again = states_of({kind: list(by_id) for kind, by_id in keys.items()}, at)
    return {
        kind: {i: key for i, key in by_id.items() if again[kind].get(i) == key}
        for kind, by_id in keys.items()
    }


def kept(key: tuple, at: datetime) -> Shown | None:
    """The kept state for ``key``, unless the clock has moved past what it shows."""
    shown = shells.recall(key)
    if not isinstance(shown, Shown) or (shown.until is not None and at >= shown.until):
        return None
    return shown


def keep(
    key: tuple,
    offer,
    html: str,
    until: datetime | None,
    countdowns: Sequence[Countdown],
) -> Shown:
    """Keep ``offer``'s shell (an ORM offer with its product and merchant loaded)."""
    shown = Shown(
        kind=key[0],
        id=offer.id,
        product=ShownProduct(offer.product.name),
        merchant=ShownMerchant(offer.product.merchant.user_id),
        html=html,
        until=until,
        countdowns=tuple(countdowns),
        pieces=tuple(_SLOTS.split(html)),
    )
    shells.keep(key, shown)
    return shown


def first_after(at: datetime, *moments: datetime | None) -> datetime | None:
    """The earliest of ``moments`` later than ``at`` (None when there is none)."""
    later = [moment for moment in moments if moment is not None and moment > at]
    return min(later) if later else None
