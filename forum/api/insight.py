"""Insight endpoints: community health for admins; a promotion's evaluation (lift, cost,
ROI) for its merchant and for admins, and the roll-ups of every promotion side by side
(the merchant's own; every merchant's for admins)."""

from flask_login import current_user

from ..insight import service
from . import bp, responses
from .core import DAY_RANGE, day_range, endpoints

# Every insight endpoint reports on a range of days.
endpoint = endpoints(bp, tag="insight", query=DAY_RANGE)


@endpoint("/admin/health", "GET", auth="admin", response=responses.CommunityHealth)
def admin_health():
    """Community health over a day range: active members, activation, posting, replies, retention
    cohorts, top contributors, the member funnel, chat activity, event attendance and no-shows"""
    return service.report(*day_range())


# --- promotions' evaluation --------------------------------------------------------


@endpoint(
    "/merchant/promotions/evaluation", "GET", auth="merchant", response=responses.MerchantRollup
)
def merchant_rollup():
    """The caller's promotions side by side over a period (the last 30 days unless asked): per
    promotion its reach, participants, exposed and unexposed orders and revenue, incremental orders
    and revenue with a 95% interval, cost and ROI"""
    return service.merchant_rollup(current_user.id, *day_range())


@endpoint("/admin/promotions/evaluation", "GET", auth="admin", response=responses.AdminRollup)
def admin_rollup():
    """Every merchant's roll-up over a period, for admins: per merchant its totals and its
    promotions' rows (the merchant roll-up's), most incremental revenue first"""
    return service.admin_rollup(*day_range())


# A promotion's evaluation, by its merchant or by an admin: the same figures.
evaluation = endpoints(bp, tag="insight", query=DAY_RANGE, response=responses.PromotionEvaluation)


@evaluation("/merchant/promotions/<kind>/<int:promotion_id>/evaluation", "GET", auth="merchant")
def promotion_evaluation(kind: str, promotion_id: int):
    """A promotion's evaluation: exposed vs comparable unexposed members, incremental orders and
    revenue with a 95% interval, cost from the ledgers, ROI, sales opportunities. kind: product,
    snap, groupbuy, auction, guess, coupon or campaign"""
    return _evaluate(kind, promotion_id, current_user.id)


@evaluation("/admin/promotions/<kind>/<int:promotion_id>/evaluation", "GET", auth="admin")
def admin_promotion_evaluation(kind: str, promotion_id: int):
    """Any merchant's promotion evaluation, for admins: the same figures as the merchant's (kind:
    product, snap, groupbuy, auction, guess, coupon or campaign)"""
    return _evaluate(kind, promotion_id, None)


def _evaluate(kind: str, promotion_id: int, merchant_user_id: int | None):
    raw_from, raw_to = day_range()
    return service.evaluate(
        kind,
        promotion_id,
        merchant_user_id=merchant_user_id,
        raw_from=raw_from,
        raw_to=raw_to,
    )
