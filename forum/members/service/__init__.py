"""Member operations: tiers, VIP perks at checkout, store credit and points.

One room split by subject, behind this front door (callers use ``service.<name>``):
rules (what an admin edits), ledger (the guarded wallet, rebates that wait, points
that expire), tiers (standing, evaluation, grants), perks (the price steps and what
orders do to credit, points, rebates and perk rows), points (earning rules, award and
reverse for other features, streak, leaderboard), report (the VIP programme).
"""

from ..coupons.service import (  # noqa: F401
    coupon_discount_by,
    coupon_facts,
    coupon_orders_by,
    coupons_of,
    existing_code,
    normalise_code,
    redemptions_by,
)
from .audience import (  # noqa: F401
    NOTHING_SPENT,
    coupon_uses_sql,
    credit_of,
    credit_sql,
    order_costs,
    order_costs_by,
    points_sql,
)
from .engagement import tiers_reached_sql  # noqa: F401
from .ledger import (  # noqa: F401
    ACCOUNTS,
    WELCOME_POINTS,
    admin_adjust,
    available_credit,
    available_points,
    balance,
    entries,
    expire_points,
    pending_credit,
    post,
    post_entry,
    release_due_rebates,
    settle,
    summary,
    take_back,
    wallet_for,
    welcome,
)
from .perks import (  # noqa: F401
    add_price_steps,
    merchandise_cents,
    on_order_changed,
    order_rebate,
)
from .points import (  # noqa: F401
    award,
    check_in,
    leaderboard,
    on_post_liked,
    on_signup_checked_in,
    reverse,
    streak_of,
)
from .report import vip_report  # noqa: F401
from .rules import (  # noqa: F401
    DEFAULT_POINTS_RULES,
    DEFAULT_RULES,
    check_admin,
    points_rules,
    rebate_lock_days,
    rules,
    rules_json,
    site_currency,
    update_points_rule,
    update_rules,
)
from .tiers import (  # noqa: F401
    LABELS,
    Standing,
    change_for_order,
    current_tier,
    evaluate,
    evaluate_all,
    grant,
    history,
    how_to_reach,
    meets,
    recent_changes,
    standing,
    tier_since,
)


def on_registered(user) -> None:
    """A new account gets its welcome points in the registration's transaction."""
    welcome(user)
