"""Promotions: group buys, teams, snap-ups."""

from typing import Literal

from pydantic import Field

from .shared import Out, Timestamp, UserRef

# --- promotions ---------------------------------------------------------------------


class ServerTime(Out):
    now: Timestamp


class ProductRef(Out):
    id: int
    name: str
    price_cents: int
    currency: str


class TeamMember(UserRef):
    joined_at: Timestamp | None


class Team(Out):
    id: int
    team_id: int
    group_buy_id: int
    status: str
    members: int
    real_members: int
    size: int
    seats_left: int
    expires_at: Timestamp
    virtual_members: int
    leader: UserRef
    share_url: str
    created_at: Timestamp | None
    settled_at: Timestamp | None
    member_list: list[TeamMember] = Field(default_factory=list)
    my_order_id: int | None = None
    price_cents: int | None = None  # what every member pays at the step reached


class LadderStep(Out):
    team_size: int
    price_cents: int


class TeamCounts(Out):
    forming: int
    succeeded: int
    failed: int
    members: int


class MyTeam(Out):
    team_id: int
    order_id: int | None
    status: str


class GroupBuy(Out):
    id: int
    merchant_id: int
    product: ProductRef
    group_price_cents: int
    currency: str
    team_size: int
    team_window_minutes: int
    auto_complete: bool
    audience: str
    steps: list[LadderStep] | None = None
    ends_at: Timestamp | None
    ended_at: Timestamp | None
    state: Literal["open", "ended"]
    teams: list[Team]
    counts: TeamCounts
    url: str
    created_at: Timestamp | None
    my_teams: list[MyTeam] = Field(default_factory=list)


class Snap(Out):
    id: int
    stock: int
    stock_left: int
    state: str
    starts_at: Timestamp
    ends_at: Timestamp
    server_now: Timestamp
    merchant_id: int
    product: ProductRef
    price_cents: int
    currency: str
    per_user_limit: int
    audience: str
    payment_window_minutes: int
    ended_at: Timestamp | None
    url: str
    created_at: Timestamp | None
    my_bought: int = 0
