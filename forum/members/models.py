from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..database import UTCDateTime
from ..extensions import db


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

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    points: Mapped[int] = mapped_column(Integer, default=0)
    credit_cents: Mapped[int] = mapped_column(Integer, default=0)


class LedgerEntry(db.Model):
    """Append-only: a balance is a sum, a reversal is a new row."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    account: Mapped[str] = mapped_column(String(16))  # "points" | "credit"
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(64))
    # Unique per (account, key) so an event credited twice is refused by the database.
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
