"""An author's earnings: what their posts and messages were credited with."""

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from ...clock import now
from ...extensions import db
from ...pagination import Page, after_id, encode, keyset_page
from ..models import (
    Commission,
    Conversion,
    Credit,
)
from .ledger import effective_status

# --- an author's earnings ----------------------------------------------------------------


@dataclass
class Earning:
    credit: Credit
    conversion: Conversion
    earned: Commission | None
    status: str

    @property
    def amount_cents(self) -> int:
        if self.earned is None or self.status == "reversed":
            return 0
        return self.earned.amount_cents


EarningsPage = Page[Earning]


def earnings(user_id: int, *, cursor: str | None = None, limit: int = 20) -> EarningsPage:
    """The conversions credited to ``user_id``'s posts and messages, newest first."""
    query = select(Credit).where(Credit.author_id == user_id)
    after = after_id(cursor)
    if after is not None:
        query = query.where(Credit.id < after)
    page = keyset_page(
        db.session.scalars(query.order_by(Credit.id.desc()).limit(limit + 1)).all(),
        limit,
        lambda credit: encode([credit.id]),
    )
    credits, next_cursor = page.items, page.next_cursor
    conversions = {
        c.id: c
        for c in db.session.scalars(
            select(Conversion).where(
                Conversion.id.in_({credit.conversion_id for credit in credits})
            )
        )
    }
    earned = {
        c.credit_id: c
        for c in db.session.scalars(
            select(Commission).where(
                Commission.credit_id.in_([c.id for c in credits]), Commission.kind == "earned"
            )
        )
    }
    at = now()
    items = []
    for credit in credits:
        row = earned.get(credit.id)
        if row is not None:
            status = effective_status(row, at)
        else:
            status = "not_eligible" if credit.self_referral else "no_commission"
        items.append(Earning(credit, conversions[credit.conversion_id], row, status))
    return EarningsPage(items, next_cursor)


def earnings_summary(user_id: int) -> dict:
    """Totals of ``user_id``'s commission by status and the store credit it brought them."""
    at = now()
    status = case(
        (and_(Commission.status == "pending", Commission.approvable_at <= at), "approved"),
        else_=Commission.status,
    )
    totals = {
        "pending_cents": 0,
        "approved_cents": 0,
        "paid_cents": 0,
        "reversed_cents": 0,
        "reward_cents": 0,
    }
    rows = db.session.execute(
        select(status, func.sum(Commission.amount_cents), func.sum(Commission.reward_cents))
        .where(Commission.author_id == user_id, Commission.kind == "earned")
        .group_by(status)
    )
    for state, amount, reward in rows:
        totals[f"{state}_cents"] = int(amount or 0)
        totals["reward_cents"] += int(reward or 0)
    # Both counts in one statement (the profile page shows them: a round trip each on
    # PostgreSQL).
    conversions, orders = db.session.execute(
        select(
            func.count(func.distinct(Credit.conversion_id)),
            func.count(func.distinct(case((Conversion.kind == "order", Credit.conversion_id)))),
        )
        .join(Conversion, Conversion.id == Credit.conversion_id)
        .where(Credit.author_id == user_id)
    ).one()
    totals["conversions"], totals["orders"] = int(conversions or 0), int(orders or 0)
    totals["earned_cents"] = (
        totals["pending_cents"] + totals["approved_cents"] + totals["paid_cents"]
    )
    return totals
