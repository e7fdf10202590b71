"""The [[groupbuy:ID]] and [[snap:ID]] widgets for posts and chat, and who may watch their rooms."""

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
from . import ladders
from .common import offer_state
from .groupbuys import group_buy_room, group_buy_url
from .snaps import snap_room, snap_url, state_of, stock_left
from .teams import forming_teams, forming_teams_of, my_teams, my_teams_of

_MINE = "plaza_promotions_my_teams"


def _listed(offer) -> bool:
    """The offer's product is still shown: not archived, not hidden by moderation (its
    widget, also on the offer's own page, is then the "unavailable" card)."""
    return offer.product.archived_at is None and offer.product.hidden_at is None


def load_group_buys(ids: list[int]) -> dict[int, GroupBuy]:
    """The page's group-buys with their product, merchant and forming teams, and the
    viewer's own teams in them: one query each for the whole page."""
    rows = [
        gb
        for gb in db.session.scalars(
            select(GroupBuy)
            .options(joinedload(GroupBuy.product), joinedload(GroupBuy.merchant))
            .where(GroupBuy.id.in_(ids))
        )
        if _listed(gb)
    ]
    at = now()
    open_ids = [gb.id for gb in rows if gb.is_open(at)]
    teams = forming_teams_of(open_ids) if open_ids else {}
    for gb in rows:
        gb.shown_teams = teams.get(gb.id, [])  # one query for the page, not one per widget
    viewer = _viewer()
    if viewer is not None and getattr(viewer, "is_authenticated", False) and rows:
        # Per viewer, so kept for this request only (g), never on a shared object.
        g.setdefault(_MINE, {}).update(my_teams_of(viewer, [gb.id for gb in rows]))
    return {gb.id: gb for gb in rows}


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


def render_group_buy(group_buy: GroupBuy, context: embeds.EmbedContext, href: str) -> Markup:
    """The widget. Posts are rendered per reader; chat may render a message once for a
    whole room, so there the widget says nothing about the viewer (promotions.js fetches it).

    Without teams of the viewer's own, the whole widget is a shell rendered once per state
    (``forum.widget_shells``: the offer, the forming teams, the link) with the teams' countdowns as
    slots; a member's own teams are rendered for them alone, never into a shell.
    """
    if not _listed(group_buy):
        return embeds.unavailable_card()
    personal = context.source_kind != "message"
    at = now()
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

    def widget(body: Markup) -> str:
        return render_template(
            "promotions/_groupbuy.html",
            group_buy=group_buy,
            href=href,
            room=group_buy_room(group_buy.id),
            personal=personal,
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
        return Markup(widget(body))  # noqa: S704 (a trusted template, autoescaped)
    key = (
        "groupbuy",
        offer_state(group_buy),
        tuple((shells.row_state(team), team.leader.username) for team in teams),
        is_open,
        href,
        personal,
    )
    return shells.render(
        key,
        lambda: widget(
            _body(
                group_buy,
                mine=[],
                teams=teams,
                at=at,
                left=lambda team: shells.slot(f"team{team.id}"),
            )
        ),
        {f"team{team.id}": shells.time_left(team.expires_at, at) for team in teams},
    )


def load_snaps(ids: list[int]) -> dict[int, Snap]:
    rows = db.session.scalars(
        select(Snap)
        .options(joinedload(Snap.product), joinedload(Snap.merchant))
        .where(Snap.id.in_(ids))
    ).all()
    rows = [snap for snap in rows if _listed(snap)]
    left = stock_left(rows)
    for snap in rows:
        snap.shown_left = left[snap.id]  # one query for the page, not one per widget
    return {snap.id: snap for snap in rows}


def render_snap(snap: Snap, context: embeds.EmbedContext, href: str) -> Markup:
    if not _listed(snap):
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


GROUP_BUY_WIDGET = embeds.WidgetKind(
    kind="groupbuy", load=load_group_buys, render=render_group_buy, url=group_buy_url
)
SNAP_WIDGET = embeds.WidgetKind(kind="snap", load=load_snaps, render=render_snap, url=snap_url)


def group_buy_widget(kind: str) -> embeds.WidgetKind:
    """The ``signals.widget_for`` answer for ``[[groupbuy:ID]]``."""
    return GROUP_BUY_WIDGET


def snap_widget(kind: str) -> embeds.WidgetKind:
    """The ``signals.widget_for`` answer for ``[[snap:ID]]``."""
    return SNAP_WIDGET


def may_watch_group_buy(kind: str, *, user, ident: int) -> bool:
    return db.session.get(GroupBuy, ident) is not None


def may_watch_team(kind: str, *, user, ident: int) -> bool:
    return db.session.get(Team, ident) is not None


def may_watch_snap(kind: str, *, user, ident: int) -> bool:
    return db.session.get(Snap, ident) is not None
