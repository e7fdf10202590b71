"""Attribution's settings, limits and the small helpers every part of the ledger shares."""

import logging
import re
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ...accounts.models import User
from ...database import insert_ignore
from ...errors import NotFound, ValidationFailed, field_error
from ...extensions import db

log = logging.getLogger(__name__)

PERSON_ACTIVITIES = ("post", "order", "email")
ORDER_STATUSES = ("pending", "paid", "shipped", "completed", "cancelled", "refunded")
PAID_STATUSES = ("paid", "shipped", "completed")
ENDED_STATUSES = ("refunded", "cancelled")
CPA_FIELDS = ("signup", "event_signup", "team_join", "first_purchase")
MAX_RATE_BP = 10_000
MAX_CPA_CENTS = 10_000_000
MAX_ORDER_CENTS = 10**12
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
KEY_RE = re.compile(r"^[\x21-\x7e]{1,96}$")
BOT_RE = re.compile(
    r"bot|crawl|spider|slurp|scrap|facebookexternalhit|embedly|preview|monitor|lighthouse|curl/|wget/",
    re.IGNORECASE,
)


def setting(name: str):
    return current_app.config[name]


def window() -> timedelta:
    return timedelta(days=int(setting("ATTRIBUTION_WINDOW_DAYS")))


def lock_period() -> timedelta:
    return timedelta(days=int(setting("ATTRIBUTION_LOCK_DAYS")))


def is_bot(user_agent: str | None) -> bool:
    """Crawlers, link previews and clients without a user agent are not readers."""
    return not user_agent or bool(BOT_RE.search(user_agent))


def _insert_once(model, values: dict, conflict: list[str]):
    """INSERT unless ``conflict`` columns already exist; the new primary key, or None. One statement."""
    statement = insert_ignore(model, values, index_elements=conflict)
    key = model.__table__.primary_key.columns.values()[0]
    return db.session.execute(statement.returning(key)).scalar()


def _insert_row_once(model, values: dict, conflict: list[str]):
    """As ``_insert_once``, answering the new row as an ORM object (RETURNING every column),
    so a caller that goes on to use it reads nothing back; None if it existed."""
    statement = insert_ignore(model, values, index_elements=conflict)
    return db.session.scalars(statement.returning(model)).first()


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` whole shares that add up exactly; the first ones get the remainder."""
    if parts <= 0:
        return []
    base, rest = divmod(int(total), parts)
    return [base + (1 if index < rest else 0) for index in range(parts)]


def _check_ids(**ids) -> None:
    errors = {
        name: ["Use a positive whole number."]
        for name, value in ids.items()
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0
    }
    if errors:
        raise ValidationFailed(fields=errors)


def _check_time(name: str, value) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise field_error(name, "Use an aware datetime.")


def _check_users(*user_ids: int) -> None:
    found = set(db.session.scalars(select(User.id).where(User.id.in_(user_ids))))
    if not set(user_ids) <= found:
        raise NotFound("No such user.")
