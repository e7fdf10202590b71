"""Rewards for reviews and experience reports: paid once per order item, reversed once.

What a reward is worth comes from the site's settings (``REVIEW_REWARD_POINTS``,
``REVIEW_REWARD_CREDIT_CENTS``, ``REPORT_REWARD_POINTS``, ``REPORT_REWARD_CREDIT_CENTS``)
plus the merchant's optional top-up; it never looks at the rating or the text.

Money moves only through ``members.service.post`` (the guarded ledger): the payment
carries the key ``review-reward:<kind>:<order item>:<account>`` and the reversal
``review-reward-reversed:<kind>:<order item>:<account>``, and the ``RewardGrant`` row is
unique per (kind, order item), so a retried or concurrent request pays once. A
reversal takes back what the member still has (a ledger never goes negative) and
records any shortfall in the entry's params.
"""

import logging

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ...clock import now
from ...errors import Conflict, Forbidden, ValidationFailed
from ...extensions import db
from ...members import service as members
from ...money import format_minor
from ...shop_embed import service as shop
from ..models import MerchantReward, RewardGrant
from .common import setting

log = logging.getLogger(__name__)

KINDS = ("review", "report")
SITE_DEFAULTS = {
    "review": {"points": 20, "credit_cents": 0},
    "report": {"points": 100, "credit_cents": 0},
}
MAX_TOPUP_POINTS = 10_000
MAX_TOPUP_CENTS = 10_000


def site_reward(kind: str) -> dict[str, int]:
    prefix = "REVIEW" if kind == "review" else "REPORT"
    defaults = SITE_DEFAULTS[kind]
    return {
        "points": setting(f"{prefix}_REWARD_POINTS", defaults["points"]),
        "credit_cents": setting(f"{prefix}_REWARD_CREDIT_CENTS", defaults["credit_cents"]),
    }


def reward_for(kind: str, merchant_id: int | None) -> dict[str, int]:
    """What one approved review (or report) of ``merchant_id``'s goods earns: the
    site's reward plus the merchant's top-up. The same for every rating."""
    amount = site_reward(kind)
    topup = db.session.get(MerchantReward, merchant_id) if merchant_id else None
    if topup is not None:
        amount = {
            "points": amount["points"] + getattr(topup, f"{kind}_points"),
            "credit_cents": amount["credit_cents"] + getattr(topup, f"{kind}_credit_cents"),
        }
    return amount


def describe(amount: dict[str, int], currency: str = "USD") -> str:
    """ "20 points", "20 points and $1.00 store credit", or "" for no reward."""
    parts = []
    if amount.get("points"):
        parts.append(f"{amount['points']:,} points")
    if amount.get("credit_cents"):
        parts.append(f"{format_minor(amount['credit_cents'], currency)} store credit")
    return " and ".join(parts)


def _key(kind: str, order_item_id: int, account: str, reversed_: bool = False) -> str:
    word = "review-reward-reversed" if reversed_ else "review-reward"
    return f"{word}:{kind}:{order_item_id}:{account}"


def grant(
    kind: str, *, subject_id: int, user_id: int, order_id: int, order_item_id: int, merchant_id
) -> RewardGrant | None:
    """Pay the reward for an approved review or report of ``order_item_id``, once.

    Returns the grant, or None when there is nothing to pay (reward set to zero) or
    this order item's reward of this kind was paid before (then nothing changes).
    Runs in the caller's transaction, inside a savepoint of its own.
    """
    amount = reward_for(kind, merchant_id)
    if not (amount["points"] or amount["credit_cents"]):
        return None
    if db.session.scalar(
        select(RewardGrant.id).where(
            RewardGrant.kind == kind, RewardGrant.order_item_id == order_item_id
        )
    ):
        return None
    row = RewardGrant(
        kind=kind,
        subject_id=subject_id,
        order_item_id=order_item_id,
        order_id=order_id,
        user_id=user_id,
        points=amount["points"],
        credit_cents=amount["credit_cents"],
        status="paid",
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
            for account, value in (("points", row.points), ("credit", row.credit_cents)):
                if value:
                    members.post(
                        user_id,
                        account,
                        value,
                        f"{kind}_reward",
                        key=_key(kind, order_item_id, account),
                        order_id=order_id,
                        subject_id=subject_id,
                    )
    except IntegrityError:
        return None
    return row


def reverse(kind: str, order_item_id: int, reason: str) -> RewardGrant | None:
    """Take back the reward of ``kind`` paid for ``order_item_id`` (refund, removal).

    At most once (a conditional UPDATE on the grant, then keyed ledger entries);
    takes back what the member still has, never more. Returns the grant reversed
    now, or None when there was none or it was reversed before.
    """
    row = db.session.scalar(
        select(RewardGrant).where(
            RewardGrant.kind == kind, RewardGrant.order_item_id == order_item_id
        )
    )
    if row is None:
        return None
    moved = db.session.execute(
        update(RewardGrant)
        .where(RewardGrant.id == row.id, RewardGrant.status == "paid")
        .values(status="reversed", reversed_reason=reason[:32], reversed_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        return None
    for account, value in (("points", row.points), ("credit", row.credit_cents)):
        if value:
            _take_back(row, account, value, reason)
    db.session.refresh(row)
    return row


def _take_back(row: RewardGrant, account: str, value: int, reason: str) -> None:
    for _attempt in range(3):
        have = members.balance(row.user_id, account)
        take = min(value, max(have, 0))
        if take == 0:
            log.info("reward %s: nothing left to take back from %s", row.id, account)
            return
        try:
            with db.session.begin_nested():
                members.post(
                    row.user_id,
                    account,
                    -take,
                    f"{row.kind}_reward_reversed",
                    key=_key(row.kind, row.order_item_id, account, reversed_=True),
                    order_id=row.order_id,
                    subject_id=row.subject_id,
                    why=reason,
                    shortfall=value - take,
                )
            return
        except Conflict:
            continue  # spent meanwhile: take what is left


def grants_for(kind: str, subject_ids) -> dict[int, RewardGrant]:
    ids = list(subject_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(RewardGrant).where(RewardGrant.kind == kind, RewardGrant.subject_id.in_(ids))
    )
    return {row.subject_id: row for row in rows}


def order_grants(order_id: int) -> list[RewardGrant]:
    return list(db.session.scalars(select(RewardGrant).where(RewardGrant.order_id == order_id)))


# --- the merchant's top-up -------------------------------------------------------------------


def merchant_topup(merchant_id: int) -> MerchantReward:
    row = db.session.get(MerchantReward, merchant_id)
    return row or MerchantReward(
        merchant_id=merchant_id,
        review_points=0,
        review_credit_cents=0,
        report_points=0,
        report_credit_cents=0,
    )


def set_merchant_topup(actor, **values) -> MerchantReward:
    """The merchant adds to the site's reward for reviews and reports of its goods.

    ``review_points``, ``review_credit_cents``, ``report_points``,
    ``report_credit_cents``: whole numbers from 0 (points up to 10,000, credit up to
    10,000 cents). Raises Forbidden for a non-merchant, ValidationFailed otherwise.
    """
    merchant = shop.merchant_of(actor) if shop.is_merchant(actor) else None
    if merchant is None:
        raise Forbidden("Only a shop can top up its review rewards.")
    errors = {}
    clean = {}
    for name in ("review_points", "review_credit_cents", "report_points", "report_credit_cents"):
        value = values.get(name, 0)
        high = MAX_TOPUP_CENTS if name.endswith("cents") else MAX_TOPUP_POINTS
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            errors[name] = [f"Use a whole number from 0 to {high:,}."]
        clean[name] = value
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    row = db.session.get(MerchantReward, merchant.id)
    if row is None:
        row = MerchantReward(merchant_id=merchant.id)
        db.session.add(row)
    for name, value in clean.items():
        setattr(row, name, value)
    row.updated_at = now()
    db.session.flush()
    return row
