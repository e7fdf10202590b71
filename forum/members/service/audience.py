"""Wallet facts for other features: as SQL expressions to compose into ONE statement
over members (campaigns' segments, a campaign batch's merge fields), each taking a
column holding a member id and never NULL (0 without a wallet), and one member's
store credit."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select

from ...extensions import db
from ..models import Wallet


def points_sql(user_id) -> ColumnElement[int]:
    return func.coalesce(
        select(Wallet.points)
        .where(Wallet.user_id == user_id)
        .correlate_except(Wallet)
        .scalar_subquery(),
        0,
    )


def credit_sql(user_id) -> ColumnElement[int]:
    return func.coalesce(
        select(Wallet.credit_cents)
        .where(Wallet.user_id == user_id)
        .correlate_except(Wallet)
        .scalar_subquery(),
        0,
    )


def credit_of(user_id: int) -> int:
    """The member's store credit balance in minor units (0 without a wallet)."""
    wallet = db.session.get(Wallet, user_id)
    return wallet.credit_cents if wallet else 0
