"""Member operations' tables: wallets and their ledger, tiers, rebates, points lots, perks.

Ledgers are append-only: a balance is a sum of ``LedgerEntry`` rows and ``Wallet``
mirrors it in the same transaction (a guarded UPDATE, so it never goes negative).
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..database import PrimaryKey, StampedNow, cascade_key
from ..extensions import db

TIERS = ("registered", "shopper", "vip")
FUNDERS = ("site", "merchant")


class Wallet(db.Model):
    """Running balances, kept equal to the ledger sums in the same transaction.

    The CHECK constraints and the guarded UPDATE in the service make a negative
    balance impossible even under concurrent spending.
    """

    __tablename__ = "wallets"
    __table_args__ = (
        CheckConstraint("points >= 0", name="points_not_negative"),
        CheckConstraint("credit_cents >= 0", name="credit_not_negative"),
    )

    user_id: Mapped[int] = cascade_key("users.id")
    points: Mapped[int] = mapped_column(default=0)
    credit_cents: Mapped[int] = mapped_column(default=0)


class LedgerEntry(db.Model):
    """Append-only: a balance is a sum, a reversal is a new row."""

    __tablename__ = "ledger_entries"

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(16))  # "points" | "credit"
    amount: Mapped[int]
    reason: Mapped[str] = mapped_column(String(64))
    # Unique per (account, key) so an event credited twice is refused by the database.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The order it is about (spent on, returned from, earned by), for the wallet's links.
    order_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[StampedNow]


class TierRules(db.Model):
    """The one row of tier rules and perk settings an admin edits (id = 1)."""

    __tablename__ = "member_tier_rules"

    id: Mapped[PrimaryKey]
    shopper_min_orders: Mapped[int] = mapped_column(default=1)
    vip_min_orders: Mapped[int] = mapped_column(default=3)  # 0: not by orders
    vip_min_spend_cents: Mapped[int] = mapped_column(default=50_000)  # 0: not by spend
    window_days: Mapped[int] = mapped_column(default=365)
    vip_grace_days: Mapped[int] = mapped_column(default=30)
    manual_grant_days: Mapped[int] = mapped_column(default=365)
    vip_rebate_bp: Mapped[int] = mapped_column(default=500)
    vip_free_shipping: Mapped[bool] = mapped_column(Boolean, default=True)
    free_shipping_funded_by: Mapped[str] = mapped_column(String(16), default="site")
    rebate_funded_by: Mapped[str] = mapped_column(String(16), default="site")
    points_per_unit: Mapped[int] = mapped_column(default=100)  # points worth 1.00
    points_expire_days: Mapped[int] = mapped_column(default=365)
    updated_at: Mapped[StampedNow]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Membership(db.Model):
    """A member's current tier and the manual grant, if any (one row per member)."""

    __tablename__ = "member_memberships"

    user_id: Mapped[int] = cascade_key("users.id")
    tier: Mapped[str] = mapped_column(String(16), default="registered")
    tier_since: Mapped[StampedNow]
    manual_tier: Mapped[str | None] = mapped_column(String(16))
    manual_reason: Mapped[str] = mapped_column(String(200), default="")
    manual_until: Mapped[datetime | None]
    evaluated_at: Mapped[datetime | None]


class TierChange(db.Model):
    """History: every tier move, why, and what caused it (an order, an admin, the job)."""

    __tablename__ = "member_tier_changes"
    __table_args__ = (Index("ix_member_tier_changes_user", "user_id", "id"),)

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    from_tier: Mapped[str] = mapped_column(String(16))
    to_tier: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))  # "order_completed", "manual: ..."
    order_id: Mapped[int | None] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)


class Rebate(db.Model):
    """A VIP rebate earned by a completed order: pending until ``available_at``, then
    moved into the wallet once (``released_at``); ``reversed_cents`` follows refunds."""

    __tablename__ = "member_rebates"
    __table_args__ = (
        CheckConstraint("reversed_cents <= amount_cents", name="rebate_reversed_within"),
        Index("ix_member_rebates_due", "released_at", "available_at"),
    )

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(unique=True)
    amount_cents: Mapped[int]
    reversed_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    available_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]


class PointsLot(db.Model):
    """Points earned together, spent and expired oldest first (``remaining`` of ``amount``)."""

    __tablename__ = "member_points_lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="lot_remaining_not_negative"),
        Index("ix_member_points_lots_user", "user_id", "expires_at", "id"),
    )

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    amount: Mapped[int]
    remaining: Mapped[int]
    expires_at: Mapped[datetime]


class PointsRule(db.Model):
    """An earning rule: ``points`` per unit of ``rule`` (an order's currency unit, a
    review, a check-in, a like received, an accepted answer, a visit-streak day),
    at most ``daily_cap`` points a day from it (None: no cap)."""

    __tablename__ = "member_points_rules"

    rule: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    points: Mapped[int]
    daily_cap: Mapped[int | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PerkGrant(db.Model):
    """Every perk given (or taken back, negative) on an order, and who funds it, so the
    operator sees what the VIP programme costs against what VIPs buy."""

    __tablename__ = "member_perk_grants"
    __table_args__ = (UniqueConstraint("key", name="uq_member_perk_grants_key"),)

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(index=True)
    merchant_id: Mapped[int]
    perk: Mapped[str] = mapped_column(String(32))  # "free_shipping" | "rebate"
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    funded_by: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(96))
    created_at: Mapped[datetime] = mapped_column(default=now, index=True)


class VisitStreak(db.Model):
    """A member's daily check-in streak (one row per member)."""

    __tablename__ = "member_visit_streaks"

    user_id: Mapped[int] = cascade_key("users.id")
    last_day: Mapped[str] = mapped_column(String(10))  # ISO date, UTC
    length: Mapped[int] = mapped_column(default=1)
