"""The commission lifecycle: reversals, approval and author rewards, payouts, balances."""

from datetime import datetime

from sqlalchemy import Row, and_, case, func, select, update

from ...accounts.models import User
from ...clock import now
from ...errors import Conflict, Forbidden, NotFound
from ...extensions import db
from ..models import (
    Commission,
    Conversion,
    Credit,
    MerchantSettings,
    Payout,
)
from .common import _check_ids, _insert_once, setting

# --- the commission lifecycle -------------------------------------------------------


def _reverse(conversion_ids: list[int], at: datetime) -> int:
    """Reverse every unpaid earned row of these conversions with its exact negative, once.

    The status UPDATE is conditional, so of two concurrent refunds only one gets
    the rows; the reversal's unique ``reverse:<id>`` key is the second guard.
    Store credit already given for an approved row is taken back as far as the
    author's balance allows (the rest is written off, never a negative balance).
    """
    if not conversion_ids:
        return 0
    rows = _reverse_earned(conversion_ids, at)
    db.session.execute(
        update(Conversion)
        .where(Conversion.id.in_(conversion_ids), Conversion.reversed_at.is_(None))
        .values(reversed_at=at)
        .execution_options(synchronize_session=False)
    )
    return len(rows)


def _reverse_earned(conversion_ids: list[int], at: datetime) -> list[Row]:
    """Mark the unpaid earned rows of these conversions reversed and write each one's
    exact negative (and take back its reward); returns the rows reversed."""
    rows = list(
        db.session.execute(
            update(Commission)
            .where(
                Commission.conversion_id.in_(conversion_ids),
                Commission.kind == "earned",
                Commission.status.in_(("pending", "approved")),
            )
            .values(status="reversed", reversed_at=at)
            .returning(
                Commission.id,
                Commission.conversion_id,
                Commission.credit_id,
                Commission.merchant_id,
                Commission.author_id,
                Commission.amount_cents,
                Commission.currency,
                Commission.reward_cents,
                Commission.approvable_at,
            )
            .execution_options(synchronize_session=False)
        ).all()
    )
    for row in rows:
        _insert_once(
            Commission,
            {
                "entry_key": f"reverse:{row.id}",
                "kind": "reversal",
                "conversion_id": row.conversion_id,
                "credit_id": row.credit_id,
                "merchant_id": row.merchant_id,
                "author_id": row.author_id,
                "amount_cents": -row.amount_cents,
                "currency": row.currency,
                "status": "reversed",
                "reversed_at": at,
                "reverses_id": row.id,
                "reward_cents": 0,
                "created_at": at,
            },
            ["entry_key"],
        )
        if row.reward_cents > 0 and row.author_id is not None:
            _take_back_reward(row.author_id, row.id, row.reward_cents)
    return rows


def reprice_order(order_id: int, total_cents: int, *, at: datetime | None = None) -> int:
    """An order's price was lowered after its conversion (a ladder step reached, a
    partial refund): the commission follows in proportion, CPS on the lower total.

    Every unpaid earned row is reversed (its exact negative, as on a refund) and
    earned again as ``amount * total_cents // revenue`` under the key
    ``reprice:<old row id>``; the conversion and its credits carry the new revenue.
    Rows already paid out stay as they are. A total that is not lower changes
    nothing. Returns the commission cents taken back.
    """
    at = at or now()
    conversion = db.session.scalar(
        select(Conversion)
        .where(Conversion.order_id == order_id, Conversion.kind == "order")
        .with_for_update()
    )
    if (
        conversion is None
        or conversion.reversed_at is not None
        or total_cents < 0
        or total_cents >= conversion.revenue_cents
    ):
        return 0
    old_revenue = conversion.revenue_cents
    taken = 0
    for row in _reverse_earned([conversion.id], at):
        amount = row.amount_cents * total_cents // old_revenue
        taken += row.amount_cents - amount
        if amount > 0:
            _insert_once(
                Commission,
                {
                    "entry_key": f"reprice:{row.id}",
                    "kind": "earned",
                    "conversion_id": row.conversion_id,
                    "credit_id": row.credit_id,
                    "merchant_id": row.merchant_id,
                    "author_id": row.author_id,
                    "amount_cents": amount,
                    "currency": row.currency,
                    "status": "pending",
                    "approvable_at": row.approvable_at,
                    "reward_cents": 0,
                    "created_at": at,
                },
                ["entry_key"],
            )
    db.session.execute(
        update(Credit)
        .where(Credit.conversion_id == conversion.id)
        .values(revenue_cents=(Credit.revenue_cents * total_cents) // old_revenue)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Conversion)
        .where(Conversion.id == conversion.id)
        .values(
            revenue_cents=total_cents,
            commission_cents=total_cents * conversion.rate_bp // 10_000,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(conversion)
    return taken


def _take_back_reward(author_id: int, commission_id: int, reward_cents: int) -> None:
    from ...members import service as members

    amount = min(reward_cents, members.balance(author_id, "credit"))
    if amount > 0:
        members.post(
            author_id,
            "credit",
            -amount,
            "post_earnings_reversed",
            key=f"attr-reward-reversal:{commission_id}",
            commission_id=commission_id,
        )


def approve_due(limit: int = 1000) -> int:
    """Approve earned rows whose lock period has passed and credit the authors' share.

    Each row moves with a conditional UPDATE (``status = 'pending'``), and the
    store credit carries the key ``attr-reward:<id>``, so running this twice, or
    in two processes, approves and rewards each row once.
    """
    at = now()
    share_bp = int(setting("ATTRIBUTION_AUTHOR_SHARE_BP"))
    due = db.session.execute(
        select(Commission.id, Commission.amount_cents, Commission.author_id)
        .where(
            Commission.kind == "earned",
            Commission.status == "pending",
            Commission.approvable_at <= at,
        )
        .order_by(Commission.id)
        .limit(limit)
    ).all()
    from ...members import service as members

    approved = 0
    for row in due:
        reward = row.amount_cents * share_bp // 10_000 if row.author_id is not None else 0
        moved = db.session.execute(
            update(Commission)
            .where(Commission.id == row.id, Commission.status == "pending")
            .values(status="approved", approved_at=at, reward_cents=reward)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            continue
        approved += 1
        if reward > 0:
            members.post(
                row.author_id,
                "credit",
                reward,
                "post_earnings",
                key=f"attr-reward:{row.id}",
                commission_id=row.id,
            )
    return approved


def effective_status(commission: Commission, at: datetime | None = None) -> str:
    """The status a reader should see: a pending row past its lock counts as approved."""
    if (
        commission.status == "pending"
        and commission.approvable_at is not None
        and commission.approvable_at <= (at or now())
    ):
        return "approved"
    return commission.status


def pay_out(actor: User, merchant_id: int) -> list[Payout]:
    """Mark the merchant's approved commission paid (one payout per currency).

    Raises Forbidden unless admin, NotFound for an unknown merchant, Conflict
    ``nothing_to_pay`` when nothing is approved.

    Payouts of one merchant run one at a time: the first statement locks the
    merchant's settings row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has
    one writer), so a concurrent request waits, then finds nothing approved and
    gets ``nothing_to_pay``. A payout row is only kept when it pays something.
    """
    if actor is None or not getattr(actor, "is_admin", False):
        raise Forbidden("Only admins pay out commission.")
    _check_ids(merchant_id=merchant_id)
    if db.session.get(User, merchant_id) is None:
        raise NotFound("No such merchant.")
    _lock_merchant(merchant_id)
    approve_due()
    currencies = list(
        db.session.scalars(
            select(Commission.currency)
            .where(
                Commission.merchant_id == merchant_id,
                Commission.kind == "earned",
                Commission.status == "approved",
            )
            .distinct()
        )
    )
    if not currencies:
        raise Conflict("There is no approved commission to pay.", code="nothing_to_pay")
    at = now()
    payouts = []
    for currency in sorted(currencies):
        savepoint = db.session.begin_nested()
        payout = Payout(
            merchant_id=merchant_id,
            admin_id=actor.id,
            currency=currency,
            total_cents=0,
            entries=0,
            created_at=at,
        )
        db.session.add(payout)
        db.session.flush()
        amounts = db.session.scalars(
            update(Commission)
            .where(
                Commission.merchant_id == merchant_id,
                Commission.kind == "earned",
                Commission.status == "approved",
                Commission.currency == currency,
            )
            .values(status="paid", paid_at=at, payout_id=payout.id)
            .returning(Commission.amount_cents)
            .execution_options(synchronize_session=False)
        ).all()
        if not amounts:  # nothing left in this currency: no empty payout row
            savepoint.rollback()
            continue
        payout.total_cents = sum(amounts)
        payout.entries = len(amounts)
        savepoint.commit()
        payouts.append(payout)
    if not payouts:
        raise Conflict("There is no approved commission to pay.", code="nothing_to_pay")
    db.session.flush()
    return payouts


def _lock_merchant(merchant_id: int) -> None:
    """Hold the merchant's settings row for the rest of the transaction (made if missing)."""
    _insert_once(
        MerchantSettings, {"merchant_id": merchant_id, "updated_at": now()}, ["merchant_id"]
    )
    db.session.execute(
        select(MerchantSettings.merchant_id)
        .where(MerchantSettings.merchant_id == merchant_id)
        .with_for_update()
    )


def balances(merchant_id: int | None = None) -> list[dict]:
    """Commission owed per merchant and status (pending/approved/paid) and its net sum."""
    at = now()
    status = case(
        (and_(Commission.status == "pending", Commission.approvable_at <= at), "approved"),
        else_=Commission.status,
    )
    query = select(
        Commission.merchant_id,
        Commission.currency,
        status.label("status"),
        func.sum(Commission.amount_cents),
    ).group_by(Commission.merchant_id, Commission.currency, status)
    if merchant_id is not None:
        query = query.where(Commission.merchant_id == merchant_id)
    found: dict[tuple[int, str], dict] = {}
    for merchant, currency, state, amount in db.session.execute(query):
        entry = found.setdefault(
            (merchant, currency),
            {
                "merchant_id": merchant,
                "currency": currency,
                "pending_cents": 0,
                "approved_cents": 0,
                "paid_cents": 0,
                "net_cents": 0,
            },
        )
        if state in ("pending", "approved", "paid"):
            entry[f"{state}_cents"] += int(amount or 0)
        entry["net_cents"] += int(amount or 0)
    names = dict(
        db.session.execute(select(User.id, User.username).where(User.id.in_([k[0] for k in found])))
        .tuples()
        .all()
    )
    rows = sorted(found.values(), key=lambda e: (-e["approved_cents"], e["merchant_id"]))
    for row in rows:
        row["merchant"] = names.get(row["merchant_id"], "?")
    return rows


def ledger_sum(merchant_id: int) -> int:
    """The merchant's net commission: the plain sum of its ledger rows."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Commission.amount_cents), 0)).where(
                Commission.merchant_id == merchant_id
            )
        )
        or 0
    )


def recent_payouts(limit: int = 20) -> list[Payout]:
    return list(db.session.scalars(select(Payout).order_by(Payout.id.desc()).limit(limit)))
