"""Rewards for reviews and experience reports: paid once per order item, reversed once
(wholly on a full refund or a removal, in proportion on a partial refund).

What a reward is worth: the points come from members' earning rules (the ``review`` and
``report`` rows of the points-rules table an admin edits, with their daily caps),
asked through ``members.service``; store credit from the site's settings
(``REVIEW_REWARD_CREDIT_CENTS``, ``REPORT_REWARD_CREDIT_CENTS``); plus the merchant's
optional top-up of either. It never looks at the rating or the text.

Money moves only through members' service: the rule's points by ``members.award``
(key ``points:<kind>:item:<order item>``), the credit and the top-up's points by
``members.post`` (keys ``review-reward:<kind>:<order item>:<part>``); the
``RewardGrant`` row is unique per (kind, order item), so a retried or concurrent
request pays once. ``members.reverse`` takes each keyed entry back, wholly or by a
share, idempotent by step, never below zero (what was spent is forgiven and recorded as
``short``).
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
SITE_CREDIT_DEFAULTS = {"review": 0, "report": 0}
MAX_TOPUP_POINTS = 10_000
MAX_TOPUP_CENTS = 10_000


def rule_points(kind: str) -> int:
    """The points members' ``kind`` rule gives (0 when an admin switched it off)."""
    rule = members.points_rules().get(kind)
    return rule.points if rule is not None and rule.active else 0


def site_reward(kind: str) -> dict[str, int]:
    prefix = "REVIEW" if kind == "review" else "REPORT"
    return {
        "points": rule_points(kind),
        "credit_cents": setting(f"{prefix}_REWARD_CREDIT_CENTS", SITE_CREDIT_DEFAULTS[kind]),
    }


def _topup(kind: str, merchant_id: int | None) -> dict[str, int]:
    row = db.session.get(MerchantReward, merchant_id) if merchant_id else None
    if row is None:
        return {"points": 0, "credit_cents": 0}
    return {
        "points": getattr(row, f"{kind}_points"),
        "credit_cents": getattr(row, f"{kind}_credit_cents"),
    }


def reward_for(kind: str, merchant_id: int | None) -> dict[str, int]:
    """What one approved review (or report) of ``merchant_id``'s goods earns: the
    site's reward plus the merchant's top-up. The same for every rating."""
    site, topup = site_reward(kind), _topup(kind, merchant_id)
    return {name: site[name] + topup[name] for name in ("points", "credit_cents")}


def describe(amount: dict[str, int], currency: str = "USD") -> str:
    """ "20 points", "20 points and $1.00 store credit", or "" for no reward."""
    parts = []
    if amount.get("points"):
        parts.append(f"{amount['points']:,} points")
    if amount.get("credit_cents"):
        parts.append(f"{format_minor(amount['credit_cents'], currency)} store credit")
    return " and ".join(parts)


def _rule_key(order_item_id: int) -> str:
    return f"item:{order_item_id}"


def _keys(kind: str, order_item_id: int) -> list[str]:
    """Every ledger key a reward of ``kind`` for ``order_item_id`` may have used."""
    return [
        f"points:{kind}:{_rule_key(order_item_id)}",
        f"review-reward:{kind}:{order_item_id}:topup-points",
        f"review-reward:{kind}:{order_item_id}:credit",
    ]


class _NothingPaid(Exception):
    pass


def grant(
    kind: str, *, subject_id: int, user_id: int, order_id: int, order_item_id: int, merchant_id
) -> RewardGrant | None:
    """Pay the reward for an approved review or report of ``order_item_id``, once.

    Returns the grant, or None when there is nothing to pay (rule off or capped for the
    day, no credit, no top-up) or this order item's reward of this kind was paid before
    (then nothing changes). Runs in the caller's transaction, in a savepoint of its own.
    """
    if db.session.scalar(
        select(RewardGrant.id).where(
            RewardGrant.kind == kind, RewardGrant.order_item_id == order_item_id
        )
    ):
        return None
    site_credit = site_reward(kind)["credit_cents"]
    topup = _topup(kind, merchant_id)
    row = RewardGrant(
        kind=kind,
        subject_id=subject_id,
        order_item_id=order_item_id,
        order_id=order_id,
        user_id=user_id,
        points=0,
        credit_cents=0,
        status="paid",
    )
    _rule, topup_key, credit_key = _keys(kind, order_item_id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()  # the unique (kind, order item) decides between two payers
            paid = {"credit": 0}
            paid["points"] = members.award(
                user_id,
                kind,
                key=_rule_key(order_item_id),
                order_id=order_id,
                subject_id=subject_id,
            )
            for account, value, key in (
                ("points", topup["points"], topup_key),
                ("credit", site_credit + topup["credit_cents"], credit_key),
            ):
                if value and members.post(
                    user_id,
                    account,
                    value,
                    f"{kind}_reward",
                    key=key,
                    order_id=order_id,
                    subject_id=subject_id,
                ):
                    paid[account] += value
            if not (paid["points"] or paid["credit"]):
                raise _NothingPaid
            row.points, row.credit_cents = paid["points"], paid["credit"]
            db.session.flush()
    except (_NothingPaid, IntegrityError):
        return None
    return row


def reward(kind: str, subject) -> RewardGrant | None:
    """``grant`` for a review or an experience report, read from it (its author, order,
    order item and merchant); marks it ``rewarded`` when something was paid."""
    paid = grant(
        kind,
        subject_id=subject.id,
        user_id=subject.author_id,
        order_id=subject.order_id,
        order_item_id=subject.order_item_id,
        merchant_id=subject.merchant_id,
    )
    if paid is not None:
        subject.rewarded = True
        db.session.flush()
    return paid


def reverse(
    kind: str, order_item_id: int, reason: str, *, share: tuple[int, int] | None = None, step="all"
) -> RewardGrant | None:
    """Take back the reward of ``kind`` paid for ``order_item_id``.

    Wholly (``share`` None: a full refund, a removal for abuse, a deletion): at most
    once, a conditional UPDATE flips the grant to ``reversed``, then every entry is taken
    back down to zero. In part (``share`` = (part, whole), a partial refund named by
    ``step``): that share of each entry, idempotent by ``step``, never more than is
    left; the grant stays ``paid``. Never below the member's balance (the rest is
    forgiven). Returns the grant, or None when there was none or it was reversed before.
    """
    row = db.session.scalar(
        select(RewardGrant).where(
            RewardGrant.kind == kind, RewardGrant.order_item_id == order_item_id
        )
    )
    if row is None or row.status != "paid":
        return None
    if share is None:
        moved = db.session.execute(
            update(RewardGrant)
            .where(RewardGrant.id == row.id, RewardGrant.status == "paid")
            .values(status="reversed", reversed_reason=reason[:32], reversed_at=now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            return None
    for key in _keys(kind, order_item_id):
        _take_back(key, share, step, f"{kind}_reward_reversed", reason)
    db.session.refresh(row)
    return row


def reverse_for_refund(order, event) -> None:
    """Take back the order's review and report rewards when money goes back to the buyer.

    A full refund takes every reward of the order back wholly. A partial refund takes
    back the same share of each reward as the share of the order's total refunded, and
    this is a choice: a partial refund names an amount, not an item, so the share is
    spread evenly over the items as the shop's money was. In full would punish the
    buyers who had a problem (a dented box compensated, one of three items returned),
    the very buyers whose reviews are critical, so the reward would in effect depend on
    what the review says; keeping it all would let a buyer refunded 90% keep a full
    reward. In proportion keeps the reward tied to what was really bought and kept,
    the way members reverses a refunded order's points. Rounding favours the buyer; a
    later full refund takes the rest.
    """
    if event.type == "partially_refunded":
        amount = int((event.params or {}).get("amount_cents") or 0)
        if amount <= 0 or not order.total_cents:
            return
        share: tuple[int, int] | None = (min(amount, order.total_cents), order.total_cents)
        step = f"refund:{event.id}"
    else:
        share, step = None, "all"
    for item_id in shop.order_item_ids(order.id):
        for kind in KINDS:
            reverse(kind, item_id, "order_refunded", share=share, step=step)


def _take_back(key: str, share, step: str, ledger_reason: str, why: str) -> None:
    for _attempt in range(3):
        try:
            members.reverse(key, share=share, step=step, reason=ledger_reason)
            return
        except Conflict:
            continue  # spent between the balance read and the debit: take what is left
    log.warning("reward %s: could not take back (%s)", key, why)


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
