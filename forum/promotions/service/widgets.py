"""The [[groupbuy:ID]] and [[snap:ID]] widgets for posts and chat, and who may watch their
rooms; the page loader of the auction, guessing and group-buy widgets together (their
renders are in game_widgets and here)."""

from datetime import datetime

from flask import g, render_template
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import embeds
from ... import widget_shells as shells
from ...clock import now
from ...extensions import db
from ...permissions import acting_user as _viewer
from ..models import GroupBuy, Snap, Team
from . import auctions, game_widgets, guessing, ladders, widget_state
from .common import offer_state
from .game_widgets import listed
from .groupbuys import group_buy_room, group_buy_url
from .snaps import snap_room, snap_url, state_of, stock_left
from .teams import forming_teams, forming_teams_of, my_teams, my_teams_of

_MINE = "plaza_promotions_my_teams"


def group_buys_loaded(ids: list[int], at: datetime) -> list[GroupBuy]:
    """The group-buys (product still listed) with their product, merchant and forming teams."""
    rows = [
        gb
        for gb in db.session.scalars(
            select(GroupBuy)
            .options(joinedload(GroupBuy.product), joinedload(GroupBuy.merchant))
            .where(GroupBuy.id.in_(ids))
        )
        if listed(gb)
    ]
    open_ids = [gb.id for gb in rows if gb.is_open(at)]
    teams = forming_teams_of(open_ids) if open_ids else {}
    for gb in rows:
        gb.shown_teams = teams.get(gb.id, [])  # one query for the page, not one per widget
    return rows


_LOADED = {
    "auction": game_widgets.auctions_loaded,
    "guess": game_widgets.games_loaded,
    "groupbuy": group_buys_loaded,
}


def load_offers(wanted: dict[str, list[int]]) -> dict[str, dict]:
    """A page's auctions, games and group-buys (``{kind: ids}``) together: their states in
    one statement (``widget_state``), kept shells (``widget_state.Shown``) where kept, and
    the others loaded (one or two queries per kind) and, once their state is confirmed,
    kept by their render. A viewer's own teams (one query) are theirs alone: such a
    group-buy is rendered for them and never kept, nor is a closed game."""
    at = now()
    keys = widget_state.states_of(wanted, at)
    group_buys = list(keys.get("groupbuy", {}))
    viewer = _viewer() if group_buys else None
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        # Per viewer, so kept for this request only (g), never on a shared object.
        g.setdefault(_MINE, {}).update(my_teams_of(viewer, group_buys))
    mine = g.get(_MINE, {})
    found: dict[str, dict] = {kind: {} for kind in wanted}
    missing: dict[str, list[int]] = {}
    for kind, by_id in keys.items():
        for ident, key in by_id.items():
            own = kind == "groupbuy" and bool(mine.get(ident))
            if not own and (shown := widget_state.kept(key, at)) is not None:
                found[kind][ident] = shown
            else:
                missing.setdefault(kind, []).append(ident)
    loaded = {kind: _LOADED[kind](ids, at) for kind, ids in missing.items()}
    keepable = {
        kind: {
            offer.id: keys[kind][offer.id]
            for offer in offers
            if not (kind == "groupbuy" and mine.get(offer.id))
            and not (kind == "guess" and guessing.state_of(offer, at) == "closed")
        }
        for kind, offers in loaded.items()
    }
    current = widget_state.confirmed(keepable, at) if any(keepable.values()) else {}
    for kind, offers in loaded.items():
        for offer in offers:
            offer.shown_key = current.get(kind, {}).get(offer.id)
            found[kind][offer.id] = offer
    return found


def load_group_buys(ids: list[int]) -> dict:
    return load_offers({"groupbuy": ids})["groupbuy"]


def load_auctions(ids: list[int]) -> dict:
    return load_offers({"auction": ids})["auction"]


def load_games(ids: list[int]) -> dict:
    return load_offers({"guess": ids})["guess"]


def _body(group_buy: GroupBuy, *, mine, teams, at, left) -> Markup:
    return Markup(  # noqa: S704 (a trusted template, autoescaped)
        render_template(
            "promotions/_groupbuy_body.html",
            group_buy=group_buy,
            teams=teams,
            mine=mine,
            mine_ids={team.id for team, _ in mine},
            at=at,
            open=group_buy.is_open(at),
            ladder=ladders.steps_view,
            left=left,
        )
    )


def group_buy_body(group_buy: GroupBuy, *, personal: bool = True) -> Markup:
    """The part of the widget that changes (teams, the viewer's teams, actions): refetched live."""
    at = now()
    viewer = _viewer() if personal else None
    return _body(
        group_buy,
        mine=my_teams(viewer, group_buy) if viewer else [],
        teams=forming_teams(group_buy) if group_buy.is_open(at) else [],
        at=at,
        left=lambda team: shells.time_left(team.expires_at, at),
    )


def render_group_buy(group_buy, context: embeds.EmbedContext, href: str) -> Markup:
    """The widget. Posts are rendered per reader; chat may render a message once for a
    whole room, so there the widget says nothing about the viewer (promotions.js fetches it).

    Without teams of the viewer's own, the whole widget is a shell rendered once per state
    (``widget_state`` on a page, ``forum.widget_shells`` by value elsewhere: the offer, the
    forming teams) with the teams' countdowns, the link and whether it is personal as
    slots; a member's own teams are rendered for them alone, never into a shell.
    """
    personal = context.source_kind != "message"
    flag = "1" if personal else "0"
    at = now()
    if isinstance(group_buy, widget_state.Shown):  # its state query keeps listed products only
        return group_buy.render(at, href, personal=flag)
    if not listed(group_buy):
        return embeds.unavailable_card()
    is_open = group_buy.is_open(at)
    teams = getattr(group_buy, "shown_teams", None)
    if teams is None:
        teams = forming_teams(group_buy) if is_open else []
    teams = teams if is_open else []
    mine: list = []
    if personal:
        viewer = _viewer()
        known = g.get(_MINE, {})
        if group_buy.id in known:
            mine = known[group_buy.id]
        elif viewer is not None:
            mine = my_teams(viewer, group_buy)

    def widget(body: Markup, link, shown_flag) -> str:
        return render_template(
            "promotions/_groupbuy.html",
            group_buy=group_buy,
            href=link,
            room=group_buy_room(group_buy.id),
            personal=shown_flag,
            body=body,
            ladder=ladders.steps_view,
        )

    if mine:
        body = _body(
            group_buy,
            mine=mine,
            teams=teams,
            at=at,
            left=lambda team: shells.time_left(team.expires_at, at),
        )
        return Markup(widget(body, href, flag))  # noqa: S704 (a trusted template, autoescaped)

    def shell(link) -> str:
        body = _body(
            group_buy, mine=[], teams=teams, at=at, left=lambda team: shells.slot(f"team{team.id}")
        )
        return widget(body, link, shells.slot("personal"))

    key = getattr(group_buy, "shown_key", None)
    if key is not None:
        countdowns = [widget_state.Countdown(f"team{t.id}", "{}", t.expires_at) for t in teams]
        until = widget_state.first_after(at, group_buy.ends_at, *(t.expires_at for t in teams))
        shown = widget_state.keep(key, group_buy, shell(shells.slot("href")), until, countdowns)
        return shown.render(at, href, personal=flag)
    key = (
        "groupbuy",
        offer_state(group_buy),
        tuple((shells.row_state(team), team.leader.username) for team in teams),
        is_open,
        href,
    )
    values = {f"team{team.id}": shells.time_left(team.expires_at, at) for team in teams}
    return shells.render(key, lambda: shell(href), {**values, "personal": flag})


def load_snaps(ids: list[int]) -> dict[int, Snap]:
    rows = db.session.scalars(
        select(Snap)
        .options(joinedload(Snap.product), joinedload(Snap.merchant))
        .where(Snap.id.in_(ids))
    ).all()
    rows = [snap for snap in rows if listed(snap)]
    left = stock_left(rows)
    for snap in rows:
        snap.shown_left = left[snap.id]  # one query for the page, not one per widget
    return {snap.id: snap for snap in rows}


def render_snap(snap: Snap, context: embeds.EmbedContext, href: str) -> Markup:
    if not listed(snap):
        return embeds.unavailable_card()
    at = now()
    left = getattr(snap, "shown_left", None)
    if left is None:
        left = stock_left([snap])[snap.id]
    return Markup(  # noqa: S704 (a trusted template, autoescaped)
        render_template(
            "promotions/_snap.html",
            snap=snap,
            href=href,
            room=snap_room(snap.id),
            left=left,
            state=state_of(snap, left, at),
            at=at,
        )
    )


# Each kind's widget: how to load (the three live ones in one statement), render and link it.
WIDGETS = {
    kind: embeds.WidgetKind(kind=kind, load=load, render=render, url=url, load_together=together)
    for kind, load, render, url, together in (
        ("groupbuy", load_group_buys, render_group_buy, group_buy_url, load_offers),
        ("auction", load_auctions, game_widgets.render_auction, auctions.auction_url, load_offers),
        ("guess", load_games, game_widgets.render_game, guessing.game_url, load_offers),
        ("snap", load_snaps, render_snap, snap_url, None),
    )
}


def widget_of(kind: str) -> embeds.WidgetKind:
    """The ``signals.widget_for`` answer for ``[[groupbuy:ID]]``, ``[[snap:ID]]``,
    ``[[auction:ID]]`` and ``[[guess:ID]]`` (connected for each kind in ``WIDGETS``)."""
    return WIDGETS[kind]


def may_watch_group_buy(kind: str, *, user, ident: int) -> bool:
    return db.session.get(GroupBuy, ident) is not None


def may_watch_team(kind: str, *, user, ident: int) -> bool:
    return db.session.get(Team, ident) is not None


def may_watch_snap(kind: str, *, user, ident: int) -> bool:
    return db.session.get(Snap, ident) is not None
