"""Group-buy and snap-up endpoints (shared/API.md, Shop), plus the server clock for countdowns."""

from ..clock import now
from ..permissions import acting_user as _user
from ..promotions import service
from ..promotions.schemas import (
    BuyBody,
    GroupBuyBody,
    SnapBody,
    TeamBody,
    dump_group_buy,
    dump_snap,
    dump_team,
)
from ..shop_embed.schemas import dump_order
from . import bp, responses
from .core import PLACES_ORDER, endpoints, idempotent_response, order_through

endpoint = endpoints(bp, tag="promotions")


@endpoint("/time", "GET", auth="anyone", response=responses.ServerTime)
def server_time():
    """The server's clock (countdowns synchronise to it)"""
    return {"now": now().isoformat()}


# --- group-buys --------------------------------------------------------------------


@endpoint(
    "/group-buys",
    "POST",
    auth="merchant",
    body=GroupBuyBody,
    status=201,
    response=responses.GroupBuy,
)
def create_group_buy(data: GroupBuyBody):
    """Create a group-buy of one of the caller's products"""
    return dump_group_buy(service.create_group_buy(_user(), **data.model_dump()))


@endpoint("/group-buys/<int:group_buy_id>", "GET", auth="anyone", response=responses.GroupBuy)
def get_group_buy(group_buy_id: int):
    """A group-buy with its forming teams (nearly full first) and team counts"""
    return dump_group_buy(service.get_group_buy(group_buy_id), _user())


@endpoint("/group-buys/<int:group_buy_id>/end", "POST", response=responses.GroupBuy)
def end_group_buy(group_buy_id: int):
    """End a group-buy now (its merchant, admin); forming teams fail or auto-complete"""
    group_buy = service.get_group_buy(group_buy_id)
    return dump_group_buy(service.end_group_buy(_user(), group_buy))


@endpoint(
    "/group-buys/<int:group_buy_id>/teams", body=TeamBody, response=responses.Team, **PLACES_ORDER
)
def start_team(group_buy_id: int, data: TeamBody):
    """Start a team (the caller's order is placed held); honours Idempotency-Key"""
    group_buy = service.get_group_buy(group_buy_id)
    team, replayed = order_through(service.start_team, group_buy, data)
    return idempotent_response(dump_team(team, _user()), replayed)


@endpoint(
    "/teams/<int:team_id>/join", "POST", body=TeamBody, errors=(409, 429), response=responses.Team
)
def join_team(team_id: int, data: TeamBody):
    """Join a team; 409 team_full / already_member / team_closed; honours Idempotency-Key"""
    team, replayed = order_through(service.join_team, service.get_team(team_id), data)
    return idempotent_response(dump_team(team, _user()), replayed, status=200)


@endpoint("/teams/<int:team_id>", "GET", auth="anyone", response=responses.Team)
def get_team(team_id: int):
    """A team: status (forming, succeeded, failed), members, expires_at"""
    # Read from the clock (team_payload's status_at); settling is the sweep's, not a GET's.
    return dump_team(service.get_team(team_id), _user())


# --- snap-ups ----------------------------------------------------------------------


@endpoint("/snaps", "POST", auth="merchant", body=SnapBody, status=201, response=responses.Snap)
def create_snap(data: SnapBody):
    """Create a timed snap-up of one of the caller's products"""
    return dump_snap(service.create_snap(_user(), **data.model_dump()))


@endpoint("/snaps/<int:snap_id>", "GET", auth="anyone", response=responses.Snap)
def get_snap(snap_id: int):
    """A snap-up: stock_left, starts_at, ends_at, state (upcoming, live, sold_out, ended)"""
    return dump_snap(service.get_snap(snap_id), _user())


@endpoint("/snaps/<int:snap_id>/buy", body=BuyBody, response=responses.Order, **PLACES_ORDER)
def buy_snap(snap_id: int, data: BuyBody):
    """Buy at the snap-up price; 409 sold_out / limit_reached / not_started / ended"""
    order, replayed = order_through(service.buy_snap_by_id, snap_id, data, data.quantity)
    # Dumped after the commit: the sale holds the product and snap-up rows until then.
    return idempotent_response(lambda: dump_order(order), replayed)


@endpoint("/snaps/<int:snap_id>/end", "POST", response=responses.Snap)
def end_snap(snap_id: int):
    """End a snap-up now (its merchant, admin)"""
    snap = service.get_snap(snap_id)
    return dump_snap(service.end_snap(_user(), snap))
