"""The [[groupbuy:ID]] and [[snap:ID]] widgets for posts and chat, and who may watch their rooms."""

from flask import render_template
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import embeds
from ...clock import now
from ...extensions import db
from ...permissions import acting_user as _viewer
from ..models import GroupBuy, Snap, Team
from . import ladders
from .groupbuys import (
    forming_teams,
    group_buy_room,
    group_buy_url,
    my_teams,
)
from .snaps import snap_room, snap_url, state_of, stock_left


def load_group_buys(ids: list[int]) -> dict[int, GroupBuy]:
    rows = db.session.scalars(
        select(GroupBuy)
        .options(joinedload(GroupBuy.product), joinedload(GroupBuy.merchant))
        .where(GroupBuy.id.in_(ids))
    )
    return {gb.id: gb for gb in rows if gb.product.archived_at is None}


def group_buy_body(group_buy: GroupBuy, *, personal: bool = True) -> Markup:
    """The part of the widget that changes (teams, the viewer's teams, actions): refetched live."""
    at = now()
    viewer = _viewer() if personal else None
    mine = my_teams(viewer, group_buy) if viewer else []
    return Markup(  # noqa: S704 (a trusted template, autoescaped)
        render_template(
            "promotions/_groupbuy_body.html",
            group_buy=group_buy,
            teams=forming_teams(group_buy) if group_buy.is_open(at) else [],
            mine=mine,
            mine_ids={team.id for team, _ in mine},
            personal=personal,
            viewer=viewer,
            at=at,
            open=group_buy.is_open(at),
            ladder=ladders.steps_view,
        )
    )


def render_group_buy(group_buy: GroupBuy, context: embeds.EmbedContext, href: str) -> Markup:
    # Posts are rendered per reader; chat may render a message once for a whole room,
    # so there the widget says nothing about the viewer (promotions.js fetches it).
    personal = context.source_kind != "message"
    return Markup(  # noqa: S704 (a trusted template, autoescaped)
        render_template(
            "promotions/_groupbuy.html",
            group_buy=group_buy,
            href=href,
            room=group_buy_room(group_buy.id),
            personal=personal,
            body=group_buy_body(group_buy, personal=personal),
            ladder=ladders.steps_view,
        )
    )


def load_snaps(ids: list[int]) -> dict[int, Snap]:
    rows = db.session.scalars(
        select(Snap)
        .options(joinedload(Snap.product), joinedload(Snap.merchant))
        .where(Snap.id.in_(ids))
    ).all()
    rows = [snap for snap in rows if snap.product.archived_at is None]
    left = stock_left(rows)
    for snap in rows:
        snap.shown_left = left[snap.id]  # one query for the page, not one per widget
    return {snap.id: snap for snap in rows}


def render_snap(snap: Snap, context: embeds.EmbedContext, href: str) -> Markup:
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
