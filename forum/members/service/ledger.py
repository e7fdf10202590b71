"""Store credit and points: the ledger, the guarded wallet, rebates that wait, points that expire.

Balances are ledgers: every change is a ``LedgerEntry`` row and the ``Wallet`` row
moves by the same amount in one guarded statement (``... WHERE credit_cents + :n >= 0``),
so no balance can go negative and a repeated event (same idempotency key) is
credited once. On PostgreSQL that UPDATE row-locks the member's wallet until commit,
so two spends of one member queue there; what a spend also touches (points lots)
is written after it, under that lock. Lock order: a member's wallet comes after the
order and product rows (see docs/architecture.md).

Points are earned in lots with an expiry (``PointsLot``); spending and expiry take
the oldest first, and the wallet's points always equal the lots' ``remaining`` sum.
A VIP rebate waits in ``Rebate`` until ``available_at`` and is moved into the wallet
once; reads count a due rebate as available and an expired lot as gone, so nothing
depends on the periodic jobs having run.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ...clock import now
from ...errors import Conflict, ValidationFailed
from ...extensions import db
from ..models import LedgerEntry, PointsLot, Rebate, Wallet
from .rules import check_admin, rules

ACCOUNTS = {"points": Wallet.points, "credit": Wallet.credit_cents}
WELCOME_POINTS = 50


def wallet_for(user_id: int) -> Wallet:
    wallet = db.session.get(Wallet, user_id)
    if wallet is None:
        wallet = Wallet(user_id=user_id, points=0, credit_cents=0)
        db.session.add(wallet)
        db.session.flush()
    return wallet


def post(user_id: int, account: str, amount: int, reason: str, **options) -> bool:
    """Add ``amount`` (negative to spend) to ``account``; see ``post_entry`` (the same
    options). Returns False when ``key`` was already used (nothing changes).
    """
    return post_entry(user_id, account, amount, reason, **options) is not None


def post_entry(
    user_id: int,
    account: str,
    amount: int,
    reason: str,
    *,
    key: str | None = None,
    order_id: int | None = None,
    expires_at: datetime | None = None,
    lots: bool = True,
    **params,
) -> LedgerEntry | None:
    """Add ``amount`` (negative to spend) to ``account``; returns the new ledger entry.

    Returns None when ``key`` was already used (nothing changes); raises Conflict
    ``insufficient_balance`` when a debit would take the balance below zero (nothing
    changes). Points credited open a lot expiring at ``expires_at`` (default: the
    rules' ``points_expire_days`` from now); points debited close lots oldest first
    (``lots=False`` when the caller has already closed them, as expiry does).
    """
    if account not in ACCOUNTS:
        raise ValidationFailed(fields={"account": ["Unknown account."]})
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValidationFailed(fields={"amount": ["Use a non-zero whole number."]})
    wallet_for(user_id)
    column = ACCOUNTS[account]
    try:
        with db.session.begin_nested():
            entry = LedgerEntry(
                user_id=user_id,
                account=account,
                amount=amount,
                reason=reason,
                idempotency_key=key,
                params=params,
                order_id=order_id,
                created_at=now(),
            )
            db.session.add(entry)
            db.session.flush()
            moved = db.session.execute(
                update(Wallet)
                .where(Wallet.user_id == user_id, column + amount >= 0)
                .values({column: column + amount})
                .execution_options(synchronize_session=False)
            ).rowcount
            if moved != 1:
                raise Conflict("Not enough balance.", code="insufficient_balance")
            if account == "points" and lots:
                if amount > 0:
                    at = now()
                    db.session.add(
                        PointsLot(
                            user_id=user_id,
                            entry_id=entry.id,
                            amount=amount,
                            remaining=amount,
                            expires_at=expires_at
                            or at + timedelta(days=rules().points_expire_days),
                        )
                    )
                else:
                    _close_lots(user_id, -amount)
                db.session.flush()
    except IntegrityError:
        return None
    db.session.expire(db.session.get(Wallet, user_id))
    return entry


def _close_lots(user_id: int, amount: int) -> None:
    """Take ``amount`` points from the member's lots, oldest expiry first.

    Runs after the guarded wallet UPDATE (which holds the wallet row on PostgreSQL),
    so lots of one member are never closed by two transactions at once.
    """
    left = amount
    lots = db.session.execute(
        select(PointsLot.id, PointsLot.remaining)
        .where(PointsLot.user_id == user_id, PointsLot.remaining > 0)
        .order_by(PointsLot.expires_at, PointsLot.id)
    ).all()
    for lot_id, remaining in lots:
        take = min(remaining, left)
        db.session.execute(
            update(PointsLot)
            .where(PointsLot.id == lot_id, PointsLot.remaining >= take)
            .values(remaining=PointsLot.remaining - take)
            .execution_options(synchronize_session=False)
        )
        left -= take
        if not left:
            return


def balance(user_id: int, account: str) -> int:
    """The ledger sum, which is the truth; the wallet mirrors it."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.user_id == user_id, LedgerEntry.account == account
        )
    )
    return int(total or 0)


# --- what a member can spend now ---------------------------------------------------


def _expired_unswept(user_id: int, at: datetime) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
                PointsLot.user_id == user_id, PointsLot.expires_at <= at
            )
        )
        or 0
    )


def _rebates(user_id: int, at: datetime, *, due: bool) -> int:
    when = Rebate.available_at <= at if due else Rebate.available_at > at
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Rebate.amount_cents - Rebate.reversed_cents), 0)).where(
                Rebate.user_id == user_id, Rebate.released_at.is_(None), when
            )
        )
        or 0
    )


def available_points(user_id: int) -> int:
    """Points that can be spent now: the wallet less lots past their expiry (read-only)."""
    wallet = db.session.get(Wallet, user_id)
    return max((wallet.points if wallet else 0) - _expired_unswept(user_id, now()), 0)


def available_credit(user_id: int) -> int:
    """Store credit that can be spent now: the wallet plus rebates past their lock."""
    wallet = db.session.get(Wallet, user_id)
    return (wallet.credit_cents if wallet else 0) + _rebates(user_id, now(), due=True)


def pending_credit(user_id: int) -> int:
    """Rebates still in their lock period."""
    return _rebates(user_id, now(), due=False)


def summary(user) -> dict:
    return {
        "tier": user.tier,
        "points": available_points(user.id),
        "credit_cents": available_credit(user.id),
    }


# --- moving what is due --------------------------------------------------------------


def _claim(model, *where, **values) -> bool:
    """One conditional UPDATE: True when this caller moved the row, so what follows
    happens once however many sweeps run at the same time."""
    moved = db.session.execute(
        update(model).where(*where).values(**values).execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)


def release_due_rebates(user_id: int | None = None, limit: int = 1000) -> int:
    """Move rebates past their lock into the wallet; each moves once (conditional UPDATE
    on ``released_at`` plus the ledger key ``rebate:<id>``). Returns how many moved."""
    at = now()
    query = (
        select(Rebate.id, Rebate.user_id, Rebate.order_id)
        .where(Rebate.released_at.is_(None), Rebate.available_at <= at)
        .order_by(Rebate.id)
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(Rebate.user_id == user_id)
    moved = 0
    for rebate_id, owner, order_id in db.session.execute(query).all():
        if not _claim(Rebate, Rebate.id == rebate_id, Rebate.released_at.is_(None), released_at=at):
            continue
        amount = db.session.scalar(
            select(Rebate.amount_cents - Rebate.reversed_cents).where(Rebate.id == rebate_id)
        )
        if amount > 0:
            post(
                owner, "credit", amount, "vip_rebate", key=f"rebate:{rebate_id}", order_id=order_id
            )
        moved += 1
    return moved


def expire_points(user_id: int | None = None, limit: int = 1000) -> int:
    """Close lots past their expiry (oldest first) with a ``points_expired`` row each.

    Each lot closes once: a conditional UPDATE on its ``remaining``, then the ledger
    row with the key ``expire:<lot id>``. Returns the points expired.
    """
    at = now()
    query = (
        select(PointsLot.id, PointsLot.user_id, PointsLot.remaining)
        .where(PointsLot.remaining > 0, PointsLot.expires_at <= at)
        .order_by(PointsLot.expires_at, PointsLot.id)
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(PointsLot.user_id == user_id)
    total = 0
    for lot_id, owner, remaining in db.session.execute(query).all():
        if not _claim(
            PointsLot, PointsLot.id == lot_id, PointsLot.remaining == remaining, remaining=0
        ):
            continue
        post(owner, "points", -remaining, "points_expired", key=f"expire:{lot_id}", lots=False)
        total += remaining
    return total


def settle(user_id: int) -> None:
    """Before spending: move the member's due rebates in and their expired points out."""
    release_due_rebates(user_id)
    expire_points(user_id)


def take_back(user_id: int, account: str, amount: int, reason: str, *, key: str, **params) -> int:
    """Debit up to ``amount`` (never below zero: what was already spent is forgiven and
    recorded as ``short``); returns what was taken."""
    have = available_points(user_id) if account == "points" else available_credit(user_id)
    if account == "points":
        expire_points(user_id)
    else:
        release_due_rebates(user_id)
    taken = min(amount, have)
    if taken > 0:
        post(user_id, account, -taken, reason, key=key, short=amount - taken, **params)
    return taken


def entries(user_id: int, *, before: int | None = None, limit: int = 20) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.user_id == user_id)
    if before is not None:
        query = query.where(LedgerEntry.id < before)
    return list(db.session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit)))


def welcome(user) -> None:
    db.session.flush()
    post(user.id, "points", WELCOME_POINTS, "welcome", key=f"welcome:{user.id}")


def admin_adjust(actor, user, account: str, amount, reason) -> LedgerEntry:
    """An admin credits (or, negative, debits) ``account`` with a reason; available at once
    (goodwill credit, points). Returns the ledger entry. Raises Forbidden,
    ValidationFailed, Conflict ``insufficient_balance`` below zero (nothing written)."""
    check_admin(actor)
    name = "amount_cents" if account == "credit" else "amount"
    errors = {}
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        errors[name] = ["Use a non-zero whole number."]
    elif abs(amount) > 10_000_000:
        errors[name] = ["At most 10,000,000."]
    reason = reason.strip() if isinstance(reason, str) else ""
    if not 3 <= len(reason) <= 60:
        errors["reason"] = ["Say why, in 3 to 60 characters."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    settle(user.id)
    entry = post_entry(user.id, account, amount, f"admin: {reason}", by=actor.id)
    assert entry is not None  # no key: never a duplicate
    return entry
