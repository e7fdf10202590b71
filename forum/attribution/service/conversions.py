"""Conversions: touches and credit, CPA actions, and following an order's life."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, exists, literal, or_, select, update

from ...clock import now
from ...database import insert_ignore, prepared, prepared_for, transaction_memo
from ...errors import ValidationFailed, field_error
from ...extensions import db
from ...trust import service as trust
from ..models import (
    ACTION_KINDS,
    Click,
    Commission,
    Conversion,
    Credit,
    MerchantSettings,
    SignupCandidate,
)
from .common import (
    CURRENCY_RE,
    ENDED_STATUSES,
    KEY_RE,
    MAX_ORDER_CENTS,
    ORDER_STATUSES,
    _check_ids,
    _check_time,
    _check_users,
    lock_period,
    split,
    window,
)
from .ledger import _reverse
from .merchants import default_settings, settings_of

# --- touches and credit ---------------------------------------------------------------


def touches_for(customer_id: int, merchant_id: int, at: datetime) -> list[Click]:
    """The customer's clicks on the merchant's widgets in the window before ``at``, oldest first."""
    return list(
        db.session.scalars(
            select(Click)
            .where(
                Click.user_id == customer_id,
                Click.merchant_id == merchant_id,
                Click.created_at >= at - window(),
                Click.created_at <= at,
            )
            .order_by(Click.created_at, Click.id)
        )
    )


def latest_touch(customer_id: int, at: datetime) -> Click | None:
    """The customer's latest click on any merchant's widget in the window (for sign-ups)."""
    return db.session.scalar(
        select(Click)
        .where(
            Click.user_id == customer_id,
            Click.merchant_id.is_not(None),
            Click.created_at >= at - window(),
            Click.created_at <= at,
        )
        .order_by(Click.created_at.desc(), Click.id.desc())
        .limit(1)
    )


def choose(touches: list[Click], model: str) -> list[Click]:
    """Which touches get credit: the last, the first, or one per distinct source (linear:
    its first click; time decay and position-based: its latest click), oldest first."""
    if not touches:
        return []
    if model == "first":
        return [touches[0]]
    if model in ("linear", "decay", "position"):
        seen: dict[tuple[str, int], Click] = {}
        for click in touches:
            key = (click.source_kind, click.source_id)
            if model == "linear":
                seen.setdefault(key, click)
            else:
                seen.pop(key, None)
                seen[key] = click
        return sorted(seen.values(), key=lambda c: (c.created_at, c.id))
    return [touches[-1]]


def credit_weights(chosen: list[Click], model: str, at: datetime) -> list[int]:
    """Each chosen touch's share in basis points (summing to 10,000 exactly).

    ``decay``: a touch's weight halves every ATTRIBUTION_HALF_LIFE_HOURS (default 7 days)
    before the conversion. ``position``: 40% to the first, 40% to the last, 20% shared
    by the ones between (50/50 with two touches). Otherwise equal shares.
    """
    count = len(chosen)
    if count <= 1:
        return [10_000] * count
    if model == "position":
        if count == 2:
            return [5_000, 5_000]
        middle = split(2_000, count - 2)
        return [4_000, *middle, 4_000]
    if model == "decay":
        half_life = float(current_app.config["ATTRIBUTION_HALF_LIFE_HOURS"]) * 3600
        raw = [
            0.5 ** (max(0.0, (at - click.created_at).total_seconds()) / half_life)
            for click in chosen
        ]
        return apportion(10_000, raw)
    return split(10_000, count)


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """``total`` in whole shares proportional to ``weights`` (largest remainders), exact."""
    whole = sum(weights)
    if total == 0 or whole <= 0:
        return split(total, len(weights))
    exact = [total * w / whole for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _create_conversion(
    *,
    kind: str,
    key: str,
    merchant_id: int,
    customer_id: int,
    occurred_at: datetime,
    revenue_cents: int,
    currency: str,
    commission_cents: int,
    rate_bp: int,
    approvable_at: datetime | None,
    order_id: int | None = None,
    order_status: str | None = None,
    completed_at: datetime | None = None,
    settings: MerchantSettings | None = None,
    touches: list[Click] | None = None,
) -> Conversion | None:
    """Insert the conversion with its credits and commission rows; None if ``key`` exists.

    The conversion row is inserted first with ON CONFLICT DO NOTHING, so of two
    concurrent deliveries exactly one goes on to write credits and commission.
    ``settings`` and ``touches`` may be given when the caller already has them.
    """
    settings = settings or settings_of(merchant_id)
    if touches is None:
        touches = touches_for(customer_id, merchant_id, occurred_at)
    chosen = choose(touches, settings.model)
    conversion = db.session.scalars(
        _insert_conversion(db.session),
        {
            "key": key,
            "kind": kind,
            "merchant_id": merchant_id,
            "customer_id": customer_id,
            "order_id": order_id,
            "revenue_cents": revenue_cents,
            "currency": currency,
            "model": settings.model,
            "direct": not chosen,
            "rate_bp": rate_bp,
            "commission_cents": commission_cents,
            "order_status": order_status,
            "occurred_at": occurred_at,
            "completed_at": completed_at,
            "created_at": now(),
        },
    ).first()
    if conversion is None:
        return None
    conversion_id = conversion.id
    weights = credit_weights(chosen, settings.model, occurred_at)
    revenues = apportion(revenue_cents, weights)
    shares = apportion(commission_cents, weights)
    for click, weight, revenue, share in zip(chosen, weights, revenues, shares, strict=True):
        self_referral = (
            click.is_self
            or click.author_id is None
            or click.author_id in (customer_id, merchant_id)
        )
        credit = Credit(
            conversion_id=conversion_id,
            click_id=click.id,
            source_kind=click.source_kind,
            source_id=click.source_id,
            author_id=click.author_id,
            room=click.room,
            embed_kind=click.embed_kind,
            embed_id=click.embed_id,
            weight_bp=weight,
            revenue_cents=revenue,
            self_referral=self_referral,
        )
        db.session.add(credit)
        db.session.flush()
        # A commerce gate (trust.service) can hold an author's commission back: the
        # credit still shows in the reports, no money is earned.
        if not self_referral and share > 0 and trust.may_earn_id(click.author_id, "commission"):
            db.session.add(
                Commission(
                    entry_key=f"earn:{credit.id}",
                    kind="earned",
                    conversion_id=conversion_id,
                    credit_id=credit.id,
                    merchant_id=merchant_id,
                    author_id=click.author_id,
                    amount_cents=share,
                    currency=currency,
                    status="pending",
                    approvable_at=approvable_at,
                    reward_cents=0,
                    created_at=now(),
                )
            )
    db.session.flush()
    return conversion


@prepared_for
def _insert_conversion(dialect: str):
    """INSERT a conversion unless its key exists, RETURNING the row (None when it existed):
    every value a bind parameter, one statement compiled once per process."""
    return insert_ignore(Conversion, None, index_elements=["key"], dialect=dialect).returning(
        Conversion
    )


def record_action(
    kind: str, *, user_id: int, merchant_id: int, key: str, occurred_at: datetime | None = None
) -> Conversion:
    """Record a CPA action of ``user_id`` paid by ``merchant_id``, once per (kind, key).

    ``key`` names the action in the caller's terms (``"signup:17"`` for an event
    sign-up row, ``"team:4:user:9"``...). Returns the conversion, the existing one
    when the key was recorded before (nothing new is written then). Raises
    ValidationFailed for a bad kind/key/id, NotFound for unknown users.
    """
    if kind not in ACTION_KINDS:
        raise field_error("kind", f"Use one of {', '.join(ACTION_KINDS)}.")
    _check_ids(user_id=user_id, merchant_id=merchant_id)
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise field_error("key", "Use 1-96 visible ASCII characters.")
    _check_time("occurred_at", occurred_at)
    _check_users(user_id, merchant_id)
    at = occurred_at or now()
    full_key = f"{kind}:{key}"
    settings = settings_of(merchant_id)
    created = _create_conversion(
        kind=kind,
        key=full_key,
        merchant_id=merchant_id,
        customer_id=user_id,
        occurred_at=at,
        revenue_cents=0,
        currency=settings.currency,
        commission_cents=settings.cpa_cents(kind),
        rate_bp=0,
        approvable_at=at + lock_period(),
    )
    if created is not None:
        return created
    return db.session.scalar(select(Conversion).where(Conversion.key == full_key))


def reverse_action(kind: str, key: str, *, at: datetime | None = None) -> int:
    """Take back an action's unpaid commission (a failed team, a cancelled sign-up).

    Returns how many commission rows were reversed (0 when unknown or already done).
    """
    conversion_id = db.session.scalar(
        select(Conversion.id).where(Conversion.key == f"{kind}:{key}")
    )
    if conversion_id is None:
        return 0
    return _reverse([conversion_id], at or now())


# --- orders ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFacts:
    """What attribution needs to know about an order, as it stands now.

    ``merchant_id`` is the merchant's USER id (the shop maps its merchant row).
    """

    order_id: int
    buyer_id: int
    merchant_id: int
    total_cents: int
    currency: str
    status: str
    paid_at: datetime | None = None
    completed_at: datetime | None = None
    refunded_at: datetime | None = None
    #: Read from the shop's order row (the hooks): its foreign keys vouch for the buyer
    #: and the merchant, so they are not looked up again.
    from_order: bool = False


def _check_facts(facts: OrderFacts) -> None:
    if not isinstance(facts, OrderFacts):
        raise ValidationFailed("Give OrderFacts.")
    _check_ids(order_id=facts.order_id, buyer_id=facts.buyer_id, merchant_id=facts.merchant_id)
    errors = {}
    if (
        not isinstance(facts.total_cents, int)
        or isinstance(facts.total_cents, bool)
        or not (0 <= facts.total_cents <= MAX_ORDER_CENTS)
    ):
        errors["total_cents"] = ["Use whole cents, zero or more."]
    if not isinstance(facts.currency, str) or not CURRENCY_RE.match(facts.currency):
        errors["currency"] = ["Use a three-letter currency code."]
    if facts.status not in ORDER_STATUSES:
        errors["status"] = [f"Use one of {', '.join(ORDER_STATUSES)}."]
    if errors:
        raise ValidationFailed(fields=errors)
    for name in ("paid_at", "completed_at", "refunded_at"):
        _check_time(name, getattr(facts, name))


def order_conversion(order_id: int) -> Conversion | None:
    return db.session.scalar(select(Conversion).where(Conversion.key == f"order:{order_id}"))


def record_order(facts: OrderFacts) -> Conversion | None:
    """Bring attribution up to date with an order; returns its conversion (None while unpaid).

    The first call that sees the order paid (``paid_at`` set, status past
    pending) records the conversion, credited at ``paid_at``, and the buyer's
    first purchase with this merchant. Every call then applies the status:
    completed starts the lock period, refunded/cancelled reverse unpaid commission.
    """
    _check_facts(facts)
    # An order that is "paid" (not yet shipped) is most likely being paid right now, with
    # no conversion yet: the insert below (ON CONFLICT DO NOTHING) is then the one
    # statement needed, and an existing conversion is looked up after it refuses.
    just_paid = facts.status == "paid" and facts.paid_at is not None
    conversion = None if just_paid else order_conversion(facts.order_id)
    if conversion is None and facts.paid_at is not None and facts.status != "pending":
        if not facts.from_order:
            _check_users(facts.buyer_id, facts.merchant_id)
        settings, touches, returning = _order_context(facts)
        completed_at = facts.completed_at if facts.status == "completed" else None
        approvable_at = completed_at + lock_period() if completed_at else None
        created = _create_conversion(
            kind="order",
            key=f"order:{facts.order_id}",
            merchant_id=facts.merchant_id,
            customer_id=facts.buyer_id,
            occurred_at=facts.paid_at,
            revenue_cents=facts.total_cents,
            currency=facts.currency,
            commission_cents=facts.total_cents * settings.cps_rate_bp // 10_000,
            rate_bp=settings.cps_rate_bp,
            approvable_at=approvable_at,
            order_id=facts.order_id,
            order_status=facts.status,
            completed_at=completed_at,
            settings=settings,
            touches=touches,
        )
        if created is not None:
            if not returning:
                _record_first_purchase(facts, approvable_at, settings, touches)
            if facts.status not in ENDED_STATUSES:
                return created  # written with this status and lock: nothing to apply
        conversion = created or order_conversion(facts.order_id)
    if conversion is not None:
        _apply_status(conversion, facts)
    return conversion


on_order_status = record_order


@prepared
def _order_context_statement():
    """The merchant's settings (or NULLs), whether the buyer has another order conversion
    with the merchant, whether a sign-up candidate of the buyer is waiting, and the
    buyer's touches in the window (oldest first; one row of NULLs when none): one row
    per touch, the rest repeated on each."""
    merchant, buyer = bindparam("merchant_id"), bindparam("buyer_id")
    one = select(literal(1).label("one")).subquery("one")
    returning = exists().where(
        Conversion.kind == "order",
        Conversion.merchant_id == merchant,
        Conversion.customer_id == buyer,
        Conversion.order_id != bindparam("order_id"),
    )
    waiting = exists().where(SignupCandidate.user_id == buyer, SignupCandidate.status == "waiting")
    return (
        select(
            MerchantSettings,
            returning.label("returning_buyer"),
            waiting.label("signup_waiting"),
            Click,
        )
        .select_from(one)
        .outerjoin(MerchantSettings, MerchantSettings.merchant_id == merchant)
        .outerjoin(
            Click,
            (Click.user_id == buyer)
            & (Click.merchant_id == merchant)
            & (Click.created_at >= bindparam("since"))
            & (Click.created_at <= bindparam("at")),
        )
        .order_by(Click.created_at, Click.id)
    )


def _order_context(facts: OrderFacts) -> tuple[MerchantSettings, list[Click], bool]:
    """What recording a newly paid order needs, in one statement: the merchant's
    settings (``settings_of``), the buyer's touches (``touches_for`` at ``paid_at``) and
    whether the buyer already converted with this merchant on another order (so this
    one is no first purchase). It also learns whether a sign-up candidate of the buyer
    is waiting, which ``on_person_activity`` would otherwise ask with an UPDATE on
    every payment (``no_waiting_signup``)."""
    rows = db.session.execute(
        _order_context_statement(),
        {
            "merchant_id": facts.merchant_id,
            "buyer_id": facts.buyer_id,
            "order_id": facts.order_id,
            "since": facts.paid_at - window(),
            "at": facts.paid_at,
        },
    ).all()
    settings, returning, waiting = rows[0][0], rows[0][1], rows[0][2]
    if not waiting:
        transaction_memo(db.session)[(_NO_WAITING_SIGNUP, facts.buyer_id)] = True
    touches = [row[3] for row in rows if row[3] is not None]
    return settings or default_settings(facts.merchant_id), touches, bool(returning)


_NO_WAITING_SIGNUP = "attribution.no_waiting_signup"


def no_waiting_signup(user_id: int) -> bool:
    """True when this transaction already read that ``user_id`` has no sign-up candidate
    waiting. A candidate is made waiting only by the account's registration and never
    goes back to waiting, so the answer holds to the end of the transaction."""
    return bool(transaction_memo(db.session).get((_NO_WAITING_SIGNUP, user_id)))


def _record_first_purchase(
    facts: OrderFacts,
    approvable_at: datetime | None,
    settings: MerchantSettings,
    touches: list[Click],
) -> None:
    """The buyer's first order with this merchant (the caller found no other): the
    merchant's first-purchase CPA, once per (merchant, buyer) by its key."""
    _create_conversion(
        kind="first_purchase",
        key=f"first_purchase:{facts.merchant_id}:{facts.buyer_id}",
        merchant_id=facts.merchant_id,
        customer_id=facts.buyer_id,
        occurred_at=facts.paid_at,
        revenue_cents=0,
        currency=settings.currency,
        commission_cents=settings.cpa_cents("first_purchase"),
        rate_bp=0,
        approvable_at=approvable_at,
        order_id=facts.order_id,
        order_status=facts.status,
        completed_at=facts.completed_at if facts.status == "completed" else None,
        settings=settings,
        touches=touches,
    )


def _apply_status(conversion: Conversion, facts: OrderFacts) -> None:
    ids = list(
        db.session.scalars(select(Conversion.id).where(Conversion.order_id == facts.order_id))
    )
    if facts.status in ENDED_STATUSES:
        _reverse(ids, facts.refunded_at or now())
    elif facts.status == "completed":
        completed_at = facts.completed_at or now()
        db.session.execute(
            update(Commission)
            .where(
                Commission.conversion_id.in_(ids),
                Commission.kind == "earned",
                Commission.approvable_at.is_(None),
            )
            .values(approvable_at=completed_at + lock_period())
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Conversion)
            .where(Conversion.id.in_(ids), Conversion.completed_at.is_(None))
            .values(completed_at=completed_at)
            .execution_options(synchronize_session=False)
        )
    # An ended order stays ended even if an older event arrives late.
    db.session.execute(
        update(Conversion)
        .where(
            Conversion.id.in_(ids),
            or_(Conversion.order_status.is_(None), Conversion.order_status.not_in(ENDED_STATUSES)),
        )
        .values(order_status=facts.status)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(conversion)
