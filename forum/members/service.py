"""Tiers, points and store credit.

Balances are ledgers: every change is a ``LedgerEntry`` row and the ``Wallet``
row moves by the same amount in one guarded statement, so no balance can go
negative and a repeated event (same idempotency key) is credited once.
"""

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from .models import LedgerEntry, Wallet

ACCOUNTS = {"points": Wallet.points, "credit": Wallet.credit_cents}
WELCOME_POINTS = 50


def wallet_for(user_id: int) -> Wallet:
    wallet = db.session.get(Wallet, user_id)
    if wallet is None:
        wallet = Wallet(user_id=user_id, points=0, credit_cents=0)
        db.session.add(wallet)
        db.session.flush()
    return wallet


def post(
    user_id: int, account: str, amount: int, reason: str, *, key: str | None = None, **params
) -> bool:
    """Add ``amount`` (negative to spend) to ``account``.

    Returns False when ``key`` was already used (nothing changes); raises Conflict
    when a debit would take the balance below zero (nothing changes).
    """
    if account not in ACCOUNTS:
        raise ValidationFailed(fields={"account": ["Unknown account."]})
    if not isinstance(amount, int) or amount == 0:
        raise ValidationFailed(fields={"amount": ["Use a non-zero whole number."]})
    wallet_for(user_id)
    column = ACCOUNTS[account]
    try:
        with db.session.begin_nested():
            db.session.add(
                LedgerEntry(
                    user_id=user_id,
                    account=account,
                    amount=amount,
                    reason=reason,
                    idempotency_key=key,
                    params=params,
                )
            )
            db.session.flush()
            moved = db.session.execute(
                update(Wallet)
                .where(Wallet.user_id == user_id, column + amount >= 0)
                .values({column: column + amount})
                .execution_options(synchronize_session=False)
            ).rowcount
            if moved != 1:
                raise Conflict("Not enough balance.", code="insufficient_balance")
    except IntegrityError:
        return False
    db.session.expire(db.session.get(Wallet, user_id))
    return True


def balance(user_id: int, account: str) -> int:
    """The ledger sum, which is the truth; the wallet mirrors it."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.user_id == user_id, LedgerEntry.account == account
        )
    )
    return int(total or 0)


def summary(user) -> dict:
    wallet = db.session.get(Wallet, user.id)
    return {
        "tier": user.tier,
        "points": wallet.points if wallet else 0,
        "credit_cents": wallet.credit_cents if wallet else 0,
    }


def on_registered(user) -> None:
    db.session.flush()
    post(user.id, "points", WELCOME_POINTS, "welcome", key=f"welcome:{user.id}")
