"""Ladder group-buys: the team's price falls as members join, by steps of team size.

A group-buy with ``steps`` (``[{"team_size": 2, "price_cents": 1500}, {"team_size": 3,
"price_cents": 1300}, {"team_size": 5, "price_cents": 1100}]``: ascending sizes,
falling prices) has ``team_size`` = the largest step and ``group_price_cents`` = the
first step's price. A ladder team stays open until its window ends or it reaches the
largest step; it succeeds when it reached the first step, and reports the price of
the step it reached (``team_price``).

Each member's held order is placed at the price of the step the team stands on once
they join (the leader alone pays the first step's price). When the team succeeds,
before its orders are confirmed, every order is lowered to the final step's price
through the shop's ``lower_prices``: an unpaid order simply costs less, a paid one
gets the difference refunded automatically.
"""

from sqlalchemy import select

from ...shop_embed import service as shop
from ..models import GroupBuy, Team, TeamMember
from .common import MAX_TEAM_SIZE, MIN_TEAM_SIZE

MIN_STEPS, MAX_STEPS = 2, 5


def check_steps(steps, product, errors: dict, *, min_size: int, max_size: int) -> list[dict] | None:
    """Validated steps (a new list of plain dicts), or None with the problems in ``errors``."""
    problem = None
    if not isinstance(steps, list) or not MIN_STEPS <= len(steps) <= MAX_STEPS:
        problem = f"Give {MIN_STEPS} to {MAX_STEPS} steps."
    clean: list[dict] = []
    if problem is None:
        for step in steps:
            size = step.get("team_size") if isinstance(step, dict) else None
            price = step.get("price_cents") if isinstance(step, dict) else None
            if (
                isinstance(size, bool)
                or not isinstance(size, int)
                or isinstance(price, bool)
                or not isinstance(price, int)
            ):
                problem = "Each step has a whole team_size and price_cents."
                break
            if not min_size <= size <= max_size:
                problem = f"Step sizes go from {min_size} to {max_size} members."
                break
            if not 0 <= price < shop.MAX_PRICE_CENTS:
                problem = "Use step prices in whole cents."
                break
            if clean and (size <= clean[-1]["team_size"] or price >= clean[-1]["price_cents"]):
                problem = "Steps go up in team size and down in price."
                break
            clean.append({"team_size": size, "price_cents": price})
    if problem is None and product is not None and clean[0]["price_cents"] >= product.price_cents:
        problem = f"Every step must be below the product's price ({product.price_cents} cents)."
    if problem is not None:
        errors.setdefault("steps", []).append(problem)
        return None
    return clean


def step_for(group_buy: GroupBuy, members: int) -> dict | None:
    """The highest step ``members`` reach (None below the first step, or without a ladder)."""
    reached = None
    for step in group_buy.steps or ():
        if members >= step["team_size"]:
            reached = step
    return reached


def price_for(group_buy: GroupBuy, members: int) -> int:
    """What a member pays with the team at ``members``: the step reached, else the first step's
    price (or the fixed group price without a ladder)."""
    step = step_for(group_buy, members)
    return int(step["price_cents"]) if step else group_buy.group_price_cents


def team_price(team: Team) -> int:
    return price_for(team.group_buy, team.members + team.virtual_members)


def settle_prices(team: Team) -> int:
    """Lower every held order of a succeeding ladder team to the step it reached; returns
    the cents refunded in all. Orders in ascending id (the lock order)."""
    group_buy = team.group_buy
    if not group_buy.steps:
        return 0
    final = team_price(team)
    orders = shop.orders_with_ids(select(TeamMember.order_id).where(TeamMember.team_id == team.id))
    refunded = 0
    for order in orders:
        refunded += shop.lower_prices(
            order, {group_buy.product_id: final}, reason=f"ladder team {team.id}"
        )
    return refunded


def steps_view(group_buy: GroupBuy, members: int) -> list[dict]:
    """The widget's ladder: each step with whether the team reached it and which is current."""
    current = step_for(group_buy, members)
    return [
        {
            **step,
            "reached": members >= step["team_size"],
            "current": current is not None and step["team_size"] == current["team_size"],
        }
        for step in group_buy.steps or ()
    ]


def ladder_terms(steps, team_size, group_price_cents, product, errors: dict):
    """(steps, team_size, group_price_cents) for a ladder: sizes and price from its steps.

    A ``team_size`` or ``group_price_cents`` that is given must agree with the steps.
    """
    clean = check_steps(steps, product, errors, min_size=MIN_TEAM_SIZE, max_size=MAX_TEAM_SIZE)
    if clean is None:
        return None, team_size, group_price_cents
    largest, first_price = clean[-1]["team_size"], clean[0]["price_cents"]
    if team_size is not None and team_size != largest:
        errors.setdefault("team_size", []).append("With steps, the team size is the largest step.")
    if group_price_cents is not None and group_price_cents != first_price:
        errors.setdefault("group_price_cents", []).append(
            "With steps, the group price is the first step's price."
        )
    return clean, largest, first_price
