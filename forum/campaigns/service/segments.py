"""Segments: a rule (JSON, never SQL) compiled into ONE query over members.

A rule is ``{"all": [rule, ...]}``, ``{"any": [...]}``, ``{"not": rule}`` or a condition
``{"field": F, "op": O, "value": V}`` (some fields take ``"days"``: a window). Every
condition compiles to a boolean SQL expression that is never NULL (scalar subqueries
are guarded by ``IS NOT NULL`` or ``coalesce``), so ``not`` means what it says for
members with no orders, posts or wallet.

The other features' tables are read here (reads only, as docs/architecture.md allows);
nothing is loaded into Python: ``count`` and ``sample`` are one statement each, and
``stream`` walks the matches in keyset pages of member ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from ...accounts.models import TIERS, User
from ...attribution.models import Click
from ...board.models import Category, Post, Thread
from ...chat.models import ChatMessage
from ...clock import now
from ...errors import ValidationFailed
from ...events.models import Signup
from ...extensions import db
from ...members.models import Wallet
from ...promotions.models import Team, TeamMember
from ...shop_embed.models import Order
from ..models import ContactSettings, Segment

INT_OPS = ("eq", "ne", "lt", "lte", "gt", "gte")
CHOICE_OPS = ("eq", "ne", "in")
BOOL_OPS = ("eq", "ne")
OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in")
ORDERED_STATUSES = ("paid", "shipped", "completed")  # an order that was bought
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


def _count(statement):
    return func.coalesce(statement.scalar_subquery(), 0)


def _bought(user):
    return and_(Order.buyer_id == user.id, Order.status.in_(ORDERED_STATUSES))


def _marketing_email_default() -> bool:
    return bool(current_app.config["MARKETING_EMAIL_DEFAULT"])


def compile_condition(cond: dict, at):
    user = User
    name, op, value = cond["field"], cond["op"], cond["value"]
    days = cond.get("days", FIELDS[name][3])
    since = at - timedelta(days=days) if days else None
    if name == "tier":
        return _compare(user.tier, op, value)
    if name == "completed_orders":
        stmt = select(func.count(Order.id)).where(
            Order.buyer_id == user.id, Order.status == "completed"
        )
        return _compare(_count(stmt), op, value)
    if name in ("days_since_first_order", "days_since_last_order"):
        pick = func.min if name == "days_since_first_order" else func.max
        moment = select(pick(Order.created_at)).where(_bought(user)).scalar_subquery()
        return _age(moment, op, value, at)
    if name == "spend_cents":
        stmt = select(func.sum(Order.total_cents)).where(_bought(user))
        if since is not None:
            stmt = stmt.where(Order.created_at >= since)
        return _compare(_count(stmt), op, value)
    if name == "points":
        return _compare(func.coalesce(Wallet.points, 0), op, value)
    if name == "credit_cents":
        return _compare(func.coalesce(Wallet.credit_cents, 0), op, value)
    if name == "posted_in_category":
        slugs = value if isinstance(value, list) else [value]
        stmt = (
            select(Post.id)
            .join(Thread, Thread.id == Post.thread_id)
            .join(Category, Category.id == Thread.category_id)
            .where(
                Post.author_id == user.id,
                Post.deleted_at.is_(None),
                Category.slug.in_(slugs),
            )
        )
        if since is not None:
            stmt = stmt.where(Post.created_at >= since)
        found = exists(stmt)
        return not_(found) if op == "ne" else found
    if name == "discussed_product":
        ids = value if isinstance(value, list) else [value]
        post_text, message_text = cast(Post.embeds, String), cast(ChatMessage.embeds, String)
        in_posts = exists(
            select(Post.id).where(
                Post.author_id == user.id,
                Post.deleted_at.is_(None),
                or_(*[post_text.contains(f'"product:{pid}"') for pid in ids]),
            )
        )
        in_chat = exists(
            select(ChatMessage.id).where(
                ChatMessage.author_id == user.id,
                ChatMessage.deleted_at.is_(None),
                or_(*[message_text.contains(f'"product:{pid}"') for pid in ids]),
            )
        )
        either: ColumnElement[bool] = or_(in_posts, in_chat)
        return not_(either) if op == "ne" else either
    if name == "clicked_not_bought_days":
        # A click on an offer in the last N days with no order from that merchant since.
        later = aliased(Order)
        return exists(
            select(Click.id).where(
                Click.user_id == user.id,
                Click.created_at >= at - timedelta(days=value),
                Click.merchant_id.is_not(None),
                not_(
                    exists(
                        select(later.id)
                        .where(
                            later.buyer_id == user.id,
                            later.created_at >= Click.created_at,
                            later.status.in_(ORDERED_STATUSES),
                            later.merchant_id.in_(_merchant_ids_of(Click.merchant_id)),
                        )
                        .correlate_except(later)
                    )
                ),
            )
        )
    if name == "event_no_show":
        found = exists(
            select(Signup.id).where(Signup.user_id == user.id, Signup.attendance == "no_show")
        )
        return found if (op == "eq") == value else not_(found)
    if name == "attended_events":
        stmt = select(func.count(Signup.id)).where(
            Signup.user_id == user.id,
            or_(Signup.attendance == "attended", Signup.checked_in_at.is_not(None)),
        )
        return _compare(_count(stmt), op, value)
    if name == "team_failed":
        found = exists(
            select(TeamMember.id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.user_id == user.id, Team.status == "failed")
        )
        return found if (op == "eq") == value else not_(found)
    if name == "chat_messages":
        stmt = select(func.count(ChatMessage.id)).where(
            ChatMessage.author_id == user.id,
            ChatMessage.deleted_at.is_(None),
            ChatMessage.created_at >= since,
        )
        return _compare(_count(stmt), op, value)
    if name == "inactive_days":
        return _inactive(user, op, value, at)
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


def _merchant_ids_of(merchant_user_id):
    """Shop merchant rows owned by the clicked offer's merchant (a user id on clicks)."""
    from ...shop_embed.models import Merchant

    return (
        select(Merchant.id).where(Merchant.user_id == merchant_user_id).correlate_except(Merchant)
    )


def _inactive(user, op: str, days: int, at):
    """Nothing posted, said in chat or ordered (and no account made) in the window."""
    bound = at - timedelta(days=days if op in ("gte", "lt") else days + 1)
    # gte N / lt N compare with now - N days; gt N / lte N with now - (N+1) days.
    quiet = and_(
        user.created_at <= bound,
        not_(exists(select(Post.id).where(Post.author_id == user.id, Post.created_at > bound))),
        not_(
            exists(
                select(ChatMessage.id).where(
                    ChatMessage.author_id == user.id, ChatMessage.created_at > bound
                )
            )
        ),
        not_(exists(select(Order.id).where(Order.buyer_id == user.id, Order.created_at > bound))),
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
        .outerjoin(Wallet, Wallet.user_id == User.id)
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
