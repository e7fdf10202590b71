"""The rules an admin edits: tiers, perks and who funds them, points rates and earning rules.

Reading never writes: without a saved row the defaults apply (a transient row).
"""

from flask import current_app
from sqlalchemy import select

from ...clock import now
from ...database import transaction_memo
from ...errors import Forbidden, ValidationFailed
from ...extensions import db
from ...permissions import has_role
from ..models import FUNDERS, PointsRule, TierRules

DEFAULT_RULES = {
    "shopper_min_orders": 1,
    "vip_min_orders": 3,
    "vip_min_spend_cents": 50_000,
    "window_days": 365,
    "vip_grace_days": 30,
    "manual_grant_days": 365,
    "vip_rebate_bp": 500,
    "vip_free_shipping": True,
    "free_shipping_funded_by": "site",
    "rebate_funded_by": "site",
    "points_per_unit": 100,
    "points_expire_days": 365,
}

# rule -> (label, points per unit, daily cap)
DEFAULT_POINTS_RULES = {
    "order": ("Per 1.00 spent on a completed order", 1, None),
    "review": ("Per approved review", 20, 60),
    "report": ("Per approved experience report", 100, None),
    "checkin": ("Per event check-in", 10, 30),
    "likes": ("Per like received on a post", 1, 20),
    "accepted_answer": ("Per accepted answer", 15, 45),
    "streak": ("Per day of a daily visit streak (capped at 7 a day)", 1, 7),
}

# field -> (low, high) for whole numbers
RANGES = {
    "shopper_min_orders": (1, 1000),
    "vip_min_orders": (0, 1000),
    "vip_min_spend_cents": (0, 100_000_000),
    "window_days": (1, 3650),
    "vip_grace_days": (0, 3650),
    "manual_grant_days": (1, 3650),
    "vip_rebate_bp": (0, 5000),
    "points_per_unit": (1, 100_000),
    "points_expire_days": (1, 3650),
}


def rules() -> TierRules:
    """The rules row, or the defaults while none was saved. Asked several times per
    checkout (tier, rebate, points): read once per transaction (the session holds a
    clean row weakly, and a missing one is asked for again on every ``get``)."""
    memo = transaction_memo(db.session)
    row = memo.get(_RULES)
    if row is None:
        row = remember_rules(db.session.get(TierRules, 1))
    return row


def remember_rules(row: TierRules | None) -> TierRules:
    """Keep ``row`` (read by the caller, None when there is none) as this transaction's
    rules, the defaults when None; returns what ``rules()`` will answer."""
    if row is None:
        row = TierRules(id=1, **DEFAULT_RULES)
    transaction_memo(db.session)[_RULES] = row
    return row


_RULES = "members.rules"


def rebate_lock_days() -> int:
    return int(current_app.config["REBATE_LOCK_DAYS"])


def rules_json(row: TierRules | None = None) -> dict:
    row = row or rules()
    return {name: getattr(row, name) for name in DEFAULT_RULES} | {
        "rebate_lock_days": rebate_lock_days()
    }


def check_admin(actor) -> None:
    if not has_role(actor, "admin"):
        raise Forbidden("Only an admin can change member rules.")


def update_rules(actor, **values) -> TierRules:
    """Save some of the rules (admin). Raises Forbidden, ValidationFailed (nothing saved).

    Later evaluations (checkouts, completions, the periodic job) use them at once.
    """
    check_admin(actor)
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for name, value in values.items():
        if value is None:
            continue
        if name in RANGES:
            low, high = RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                errors[name] = [f"Use a whole number from {low:,} to {high:,}."]
        elif name == "vip_free_shipping":
            if not isinstance(value, bool):
                errors[name] = ["Use true or false."]
        elif name in ("free_shipping_funded_by", "rebate_funded_by"):
            if value not in FUNDERS:
                errors[name] = [f"Choose one of {', '.join(FUNDERS)}."]
        else:
            errors[name] = ["Unknown setting."]
            continue
        clean[name] = value
    merged = rules_json() | clean
    if not errors and not merged["vip_min_orders"] and not merged["vip_min_spend_cents"]:
        errors["vip_min_orders"] = ["VIP needs a number of orders or a spend (or both)."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    transaction_memo(db.session).pop(_RULES, None)
    row = db.session.get(TierRules, 1)
    if row is None:
        row = TierRules(id=1, **DEFAULT_RULES)
        db.session.add(row)
    for name, value in clean.items():
        setattr(row, name, value)
    row.updated_at, row.updated_by_id = now(), actor.id
    db.session.flush()
    return row


def points_rules() -> dict[str, PointsRule]:
    """Every earning rule (saved rows over the defaults), by name."""
    found = {row.rule: row for row in db.session.scalars(select(PointsRule))}
    for name, (label, points, cap) in DEFAULT_POINTS_RULES.items():
        found.setdefault(
            name, PointsRule(rule=name, label=label, points=points, daily_cap=cap, active=True)
        )
    return dict(sorted(found.items()))


def update_points_rule(actor, rule: str, *, points, daily_cap, active=True) -> PointsRule:
    check_admin(actor)
    errors: dict[str, list[str]] = {}
    if rule not in DEFAULT_POINTS_RULES:
        errors["rule"] = ["Unknown rule."]
    if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= 100_000:
        errors["points"] = ["Use a whole number from 0 to 100,000."]
    if daily_cap is not None and (
        isinstance(daily_cap, bool) or not isinstance(daily_cap, int) or not daily_cap >= 1
    ):
        errors["daily_cap"] = ["Leave empty for no cap, or use 1 or more."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    row = db.session.get(PointsRule, rule)
    if row is None:
        row = PointsRule(rule=rule, label=DEFAULT_POINTS_RULES[rule][0])
        db.session.add(row)
    row.points, row.daily_cap, row.active = points, daily_cap, bool(active)
    db.session.flush()
    return row


def site_currency() -> str:
    """The currency tier spend thresholds and reports are written in."""
    return str(current_app.config["MEMBERS_CURRENCY"])
