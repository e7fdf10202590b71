"""API request bodies (types only; ranges and rules are the service's) and JSON dumps.

Times come in as ISO 8601 strings with an offset and are checked by the service.
A create body's fields are its service function's keyword arguments: the API hands
``model_dump()`` straight on, so keep the two in step.
"""

from collections.abc import Callable
from typing import Any

from pydantic import Field

from ..accounts.schemas import dump_user_ref
from ..clock import now
from ..money import MinorUnits
from ..schemas import Body, DbInt, Id, attrs, iso
from ..shop_embed.schemas import Address
from . import service


class LadderStep(Body):
    team_size: DbInt
    price_cents: MinorUnits


class GroupBuyBody(Body):
    """With ``steps`` (a ladder) ``group_price_cents`` and ``team_size`` may be left out."""

    product_id: Id
    group_price_cents: MinorUnits | None = None
    team_size: DbInt | None = None
    team_window_minutes: DbInt
    ends_at: str = Field(max_length=64)
    auto_complete: bool = False
    audience: str = Field(default="all", max_length=16)
    steps: list[LadderStep] | None = Field(default=None, max_length=10)


class TeamBody(Body):
    """Starting or joining a team: an optional shipping address for the member's order."""

    shipping_address: Address | None = None


class SnapBody(Body):
    product_id: Id
    price_cents: MinorUnits
    stock: DbInt
    per_user_limit: DbInt
    starts_at: str = Field(max_length=64)
    ends_at: str = Field(max_length=64)
    audience: str = Field(default="all", max_length=16)


class BuyBody(Body):
    quantity: DbInt = 1
    shipping_address: Address | None = None


def product_ref(product) -> dict:
    return attrs(product, "id", "name", "price_cents", "currency")


def signed_in(viewer) -> bool:
    """Whether a dump may add the viewer's own part (an anonymous viewer has none)."""
    return viewer is not None and getattr(viewer, "is_authenticated", False)


def dump_offer(
    offer,
    payload: dict,
    viewer,
    *,
    url: Callable[[Any], str],
    mine: tuple[str, Callable[[Any, Any], Any]],
    **fields: Any,
) -> dict:
    """A timed offer's API shape (snap-up, auction, game): its live ``payload`` less the
    widget's ``kind``, its shop, product, page (``url(offer)``) and creation time,
    ``fields``, and for a signed-in ``viewer`` their own part: ``mine`` is the key and
    the service function ``(viewer, offer)`` that answers it."""
    data = {key: value for key, value in payload.items() if key != "kind"}
    data.update(
        merchant_id=offer.merchant_id,
        product=product_ref(offer.product),
        **fields,
        url=url(offer),
        created_at=iso(offer.created_at),
    )
    if signed_in(viewer):
        key, answer = mine
        data[key] = answer(viewer, offer)
    return data


def dump_team(team, viewer=None, *, with_roster: bool = True) -> dict:
    data = service.team_payload(team)
    data.pop("kind")
    data.update(
        {
            "virtual_members": team.virtual_members,
            "leader": dump_user_ref(team.leader),
            "share_url": service.share_url(team),
            "created_at": iso(team.created_at),
            "settled_at": iso(team.settled_at),
        }
    )
    if with_roster:
        data["member_list"] = [
            {**dump_user_ref(m.user), "joined_at": iso(m.joined_at)} for m in service.roster(team)
        ]
    if signed_in(viewer):
        mine = service.membership(viewer, team)
        data["my_order_id"] = mine.order_id if mine else None
    return data


def dump_group_buy(group_buy, viewer=None) -> dict:
    at = now()
    counts = service.campaign_counts([group_buy.id])[group_buy.id]
    data = {
        "id": group_buy.id,
        "merchant_id": group_buy.merchant_id,
        "product": product_ref(group_buy.product),
        **attrs(
            group_buy,
            "group_price_cents",
            "currency",
            "team_size",
            "team_window_minutes",
            "auto_complete",
            "audience",
            "steps",
        ),
        "ends_at": iso(group_buy.ends_at),
        "ended_at": iso(group_buy.ended_at),
        "state": "open" if group_buy.is_open(at) else "ended",
        "teams": [
            dump_team(t, with_roster=False)
            for t in (service.forming_teams(group_buy) if group_buy.is_open(at) else [])
        ],
        "counts": counts,
        "url": service.group_buy_url(group_buy),
        "created_at": iso(group_buy.created_at),
    }
    if signed_in(viewer):
        data["my_teams"] = [
            {"team_id": team.id, "order_id": member.order_id, "status": team.status_at(at)}
            for team, member in service.my_teams(viewer, group_buy)
        ]
    return data


def dump_snap(snap, viewer=None) -> dict:
    return dump_offer(
        snap,
        service.snap_payload(snap),
        viewer,
        url=service.snap_url,
        mine=("my_bought", service.bought_by),
        **attrs(snap, "price_cents", "currency", "per_user_limit", "audience"),
        payment_window_minutes=int(service.snap_payment_window().total_seconds() // 60),
        ended_at=iso(snap.ended_at),
    )
