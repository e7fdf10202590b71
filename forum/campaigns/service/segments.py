"""Segments: a rule (JSON, never SQL) compiled into ONE query over members.

A rule is ``{"all": [rule, ...]}``, ``{"any": [...]}``, ``{"not": rule}`` or a condition
``{"field": F, "op": O, "value": V}`` (some fields take ``"days"``: a window). Every
condition compiles to a boolean SQL expression that is never NULL (scalar subqueries
are guarded by ``IS NOT NULL`` or ``coalesce``), so ``not`` means what it says for
members with no orders, posts or wallet.

The other features' facts come from their service fronts as SQL expression builders
(``shop.completed_orders_sql(User.id)``, ``board.posted_in_categories_sql(...)``), so
no other feature's table is named here and the rule is still ONE statement; nothing
is loaded into Python: ``count`` and ``sample`` are one statement each, and
``stream`` walks the matches in keyset pages of member ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)

from ...accounts.models import TIERS, User
from ...attribution import service as attribution
from ...board import service as board
from ...chat import service as chat
from ...clock import now
from ...errors import ValidationFailed
from ...events import service as events
from ...extensions import db
from ...members import service as members
from ...promotions import service as promotions
from ...shop_embed import service as shop
from ..models import ContactSettings, Segment

INT_OPS = ("eq", "ne", "lt", "lte", "gt", "gte")
CHOICE_OPS = ("eq", "ne", "in")
BOOL_OPS = ("eq", "ne")
OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in")
MAX_DEPTH = 6
MAX_CONDITIONS = 40
MAX_VALUE = 10**9
MAX_DAYS = 3650

# field -> (kind of value, allowed operators, takes a "days" window, default window)
FIELDS: dict[str, tuple[str, tuple[str, ...], bool, int | None]] = {
    "tier": ("tier", CHOICE_OPS, False, None),
    "completed_orders": ("int", INT_OPS, False, None),
    "days_since_first_order": ("int", INT_OPS, False, None),
    "days_since_last_order": ("int", INT_OPS, False, None),
    "spend_cents": ("int", INT_OPS, True, None),
    "points": ("int", INT_OPS, False, None),
    "credit_cents": ("int", INT_OPS, False, None),
    "posted_in_category": ("slug", CHOICE_OPS, True, None),
    "discussed_product": ("id", CHOICE_OPS, False, None),
    "clicked_not_bought_days": ("int", ("eq",), False, None),
    "event_no_show": ("bool", BOOL_OPS, False, None),
    "attended_events": ("int", INT_OPS, False, None),
    "team_failed": ("bool", BOOL_OPS, False, None),
    "chat_messages": ("int", INT_OPS, True, 30),
    "inactive_days": ("int", ("lt", "lte", "gt", "gte"), False, None),
    "marketing_email": ("bool", BOOL_OPS, False, None),
    "marketing_sms": ("bool", BOOL_OPS, False, None),
    "email_verified": ("bool", BOOL_OPS, False, None),
}


def _problem(path: str, message: str) -> ValidationFailed:
    return ValidationFailed("The rule is not valid.", fields={path: [message]})


# --- validation -------------------------------------------------------------------


def check_rule(rule, path: str = "rule", depth: int = 0, counter: list | None = None) -> dict:
    """The rule, normalised; ValidationFailed (422) naming the first bad part."""
    counter = counter if counter is not None else [0]
    if depth > MAX_DEPTH:
        raise _problem(path, f"Nest rules at most {MAX_DEPTH} deep.")
    if not isinstance(rule, dict):
        raise _problem(path, "A rule is an object: all, any, not or a condition.")
    keys = set(rule)
    if keys in ({"all"}, {"any"}):
        (key,) = keys
        parts = rule[key]
        if not isinstance(parts, list) or not parts:
            raise _problem(f"{path}.{key}", "Give a non-empty list of rules.")
        return {
            key: [
                check_rule(part, f"{path}.{key}.{index}", depth + 1, counter)
                for index, part in enumerate(parts)
            ]
        }
    if keys == {"not"}:
        return {"not": check_rule(rule["not"], f"{path}.not", depth + 1, counter)}
    if "field" in keys:
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise _problem(path, f"Use at most {MAX_CONDITIONS} conditions.")
        return _check_condition(rule, path)
    raise _problem(path, "Use all, any, not or a condition {field, op, value}.")


def _check_condition(cond: dict, path: str) -> dict:
    extra = set(cond) - {"field", "op", "value", "days"}
    if extra or not {"field", "op", "value"} <= set(cond):
        raise _problem(path, "A condition has field, op, value (and days for windows).")
    name, op, value = cond["field"], cond["op"], cond["value"]
    if name not in FIELDS:
        raise _problem(f"{path}.field", f"Unknown field. Use one of {', '.join(FIELDS)}.")
    kind, ops, windowed, _default = FIELDS[name]
    if op not in OPS:
        raise _problem(f"{path}.op", f"Unknown operator. Use one of {', '.join(OPS)}.")
    if op not in ops:
        raise _problem(f"{path}.op", f"{name} takes {', '.join(ops)}.")
    out = {"field": name, "op": op}
    if op == "in":
        if not isinstance(value, list) or not 1 <= len(value) <= 100:
            raise _problem(f"{path}.value", "in takes a list of 1-100 values.")
        out["value"] = [_check_value(kind, item, f"{path}.value") for item in value]
    else:
        out["value"] = _check_value(kind, value, f"{path}.value")
    if "days" in cond:
        days = cond["days"]
        if not windowed:
            raise _problem(f"{path}.days", f"{name} takes no window.")
        if not _whole(days) or not 1 <= days <= MAX_DAYS:
            raise _problem(f"{path}.days", f"Use 1-{MAX_DAYS} days.")
        out["days"] = days
    return out


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_value(kind: str, value, path: str):
    if kind == "bool":
        if not isinstance(value, bool):
            raise _problem(path, "Use true or false.")
        return value
    if kind == "tier":
        if value not in TIERS:
            raise _problem(path, f"Use one of {', '.join(TIERS)}.")
        return value
    if kind == "slug":
        if not isinstance(value, str) or not 1 <= len(value) <= 48:
            raise _problem(path, "Use a category slug.")
        return value
    if kind == "id":
        if not _whole(value) or not 1 <= value <= 2**31 - 1:
            raise _problem(path, "Use a positive id.")
        return value
    if not _whole(value) or not 0 <= value <= MAX_VALUE:
        raise _problem(path, f"Use a whole number from 0 to {MAX_VALUE}.")
    return value


# --- compiling --------------------------------------------------------------------


def _compare(column, op: str, value):
    return {
        "eq": column == value,
        "ne": column != value,
        "lt": column < value,
        "lte": column <= value,
        "gt": column > value,
        "gte": column >= value,
        "in": column.in_(value) if isinstance(value, list) else column == value,
    }[op]


def _age(column, op: str, days: int, at):
    """``days since column`` op ``days`` as a comparison of the timestamp with bounds
    computed here (no date arithmetic in SQL: SQLite and PostgreSQL differ); NULL
    (nothing happened) never matches."""
    start = at - timedelta(days=days)
    end = at - timedelta(days=days + 1)
    test = {
        "gte": column <= start,
        "gt": column < end,
        "lte": column > end,
        "lt": column > start,
        "eq": and_(column <= start, column > end),
        "ne": or_(column > start, column <= end),
    }[op]
    return and_(column.is_not(None), test)


def _marketing_email_default() -> bool:
    return bool(current_app.config["MARKETING_EMAIL_DEFAULT"])


def compile_condition(cond: dict, at):
    """One condition as a boolean over ``User`` (the member): every other feature's
    table is read through that feature's service (an expression builder), so the
    segment is still one statement."""
    member = User.id
    name, op, value = cond["field"], cond["op"], cond["value"]
    days = cond.get("days", FIELDS[name][3])
    since = at - timedelta(days=days) if days else None
    if name == "tier":
        return _compare(User.tier, op, value)
    if name == "completed_orders":
        return _compare(shop.completed_orders_sql(member), op, value)
    if name in ("days_since_first_order", "days_since_last_order"):
        moment = (
            shop.bought_at_sql(member, "first")
            if name == "days_since_first_order"
            else shop.bought_at_sql(member, "last")
        )
        return _age(moment, op, value, at)
    if name == "spend_cents":
        return _compare(shop.spend_sql(member, since), op, value)
    if name == "points":
        return _compare(members.points_sql(member), op, value)
    if name == "credit_cents":
        return _compare(members.credit_sql(member), op, value)
    if name == "posted_in_category":
        slugs = value if isinstance(value, list) else [value]
        found = board.posted_in_categories_sql(member, slugs, since)
        return not_(found) if op == "ne" else found
    if name == "discussed_product":
        refs = [f"product:{pid}" for pid in (value if isinstance(value, list) else [value])]
        either: ColumnElement[bool] = or_(
            board.embedded_in_posts_sql(member, refs), chat.embedded_in_messages_sql(member, refs)
        )
        return not_(either) if op == "ne" else either
    if name == "clicked_not_bought_days":
        # A click on an offer in the last N days with no order from that merchant since.
        return attribution.clicked_offer_sql(
            member,
            at - timedelta(days=value),
            unless=lambda clicked_at, merchant: shop.bought_from_since_sql(
                member, merchant, clicked_at
            ),
        )
    if name == "event_no_show":
        found = events.no_show_sql(member)
        return found if (op == "eq") == value else not_(found)
    if name == "attended_events":
        return _compare(events.attended_count_sql(member), op, value)
    if name == "team_failed":
        found = promotions.in_failed_team_sql(member)
        return found if (op == "eq") == value else not_(found)
    if name == "chat_messages":
        return _compare(chat.message_count_sql(member, since), op, value)
    if name == "inactive_days":
        return _inactive(op, value, at)
    if name == "marketing_email":
        chosen = func.coalesce(ContactSettings.marketing_email, _marketing_email_default())
        return chosen == value if op == "eq" else chosen != value
    if name == "marketing_sms":
        column: ColumnElement[bool] = and_(
            func.coalesce(ContactSettings.marketing_sms, false()) == true(),
            ContactSettings.phone_verified_at.is_not(None),
        )
        return column if (op == "eq") == value else not_(column)
    if name == "email_verified":
        column = ContactSettings.email_verified_at.is_not(None)
        return column if (op == "eq") == value else not_(column)
    raise _problem("rule", f"Unknown field {name}.")  # pragma: no cover (checked before)


def _inactive(op: str, days: int, at):
    """Nothing posted, said in chat or ordered (and no account made) in the window."""
    bound = at - timedelta(days=days if op in ("gte", "lt") else days + 1)
    # gte N / lt N compare with now - N days; gt N / lte N with now - (N+1) days.
    quiet = and_(
        User.created_at <= bound,
        not_(board.posted_since_sql(User.id, bound)),
        not_(chat.said_since_sql(User.id, bound)),
        not_(shop.ordered_since_sql(User.id, bound)),
    )
    return quiet if op in ("gte", "gt") else not_(quiet)


def compile_rule(rule: dict, at):
    if "all" in rule:
        return and_(literal(True), *[compile_rule(part, at) for part in rule["all"]])
    if "any" in rule:
        return or_(literal(False), *[compile_rule(part, at) for part in rule["any"]])
    if "not" in rule:
        return not_(compile_rule(rule["not"], at))
    return compile_condition(rule, at)


def members_query(rule: dict, *, columns=None, at=None):
    """``SELECT <columns> FROM users ... WHERE <rule>``: members (not suspended) matching."""
    at = at or now()
    rule = check_rule(rule)
    statement = (
        select(*(columns or (User.id,)))
        .select_from(User)
        .outerjoin(ContactSettings, ContactSettings.user_id == User.id)
        .where(
            or_(User.suspended_until.is_(None), User.suspended_until <= at),
            compile_rule(rule, at),
        )
    )
    return statement


def count(rule: dict) -> int:
    statement = members_query(rule).subquery()
    return int(db.session.scalar(select(func.count()).select_from(statement)) or 0)


def sample(rule: dict, limit: int = 10) -> list[str]:
    statement = members_query(rule, columns=(User.username,)).order_by(User.id).limit(limit)
    return list(db.session.scalars(statement))


def stream(rule: dict, *, after_id: int = 0, page: int = 1000, at=None) -> Iterator[list[int]]:
    """Matching member ids in ascending keyset pages (``id > last``), ``page`` at a time."""
    last = after_id
    while True:
        ids = list(
            db.session.scalars(
                members_query(rule, at=at).where(User.id > last).order_by(User.id).limit(page)
            )
        )
        if not ids:
            return
        yield ids
        last = ids[-1]
        if len(ids) < page:
            return


# --- answers to other features (connected in campaigns.init_app) ---------------------------


def answer_in_segment(kind: str, *, segment_id: int, user) -> bool:
    """``signals.in_segment``: is ``user`` in segment ``segment_id`` now? The rule is
    compiled for this one member into one EXISTS query; an unknown segment is False."""
    segment = db.session.get(Segment, segment_id) if isinstance(segment_id, int) else None
    if segment is None or not getattr(user, "is_authenticated", False):
        return False
    statement = members_query(segment.rule).where(User.id == user.id)
    return bool(db.session.scalar(select(exists(statement))))


def answer_segment_names(kind: str, *, ids=None) -> dict[int, str]:
    """``signals.segment_names``: {id: name} of those segments (or the newest 200)."""
    statement = select(Segment.id, Segment.name)
    if ids is None:
        statement = statement.order_by(Segment.id.desc()).limit(200)
    else:
        wanted = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
        if not wanted:
            return {}
        statement = statement.where(Segment.id.in_(wanted))
    return {row.id: row.name for row in db.session.execute(statement)}
