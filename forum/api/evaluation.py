"""Insight endpoints: a promotion's evaluation (lift, cost, ROI) for its merchant and
for admins, and the roll-ups of every promotion side by side (the merchant's own; every
merchant's for admins)."""

from flask import request
from flask_login import current_user

from ..insight import service
from . import bp, responses
from .core import endpoints

endpoint = endpoints(bp, tag="insight")
DATE = {"type": "string", "format": "date"}


@endpoint(
    "/merchant/promotions/evaluation",
    "GET",
    auth="merchant",
    query=(("from", DATE), ("to", DATE)),
    response=responses.MerchantRollup,
)
def merchant_rollup():
    """The caller's promotions side by side over a period (the last 30 days unless asked): per
    promotion its reach, participants, exposed and unexposed orders and revenue, incremental orders
    and revenue with a 95% interval, cost and ROI"""
    return service.merchant_rollup(
        current_user.id, request.args.get("from"), request.args.get("to")
    )


@endpoint(
    "/admin/promotions/evaluation",
    "GET",
    auth="admin",
    query=(("from", DATE), ("to", DATE)),
    response=responses.AdminRollup,
)
def admin_rollup():
    """Every merchant's roll-up over a period, for admins: per merchant its totals and its
    promotions' rows (the merchant roll-up's), most incremental revenue first"""
    return service.admin_rollup(request.args.get("from"), request.args.get("to"))


@endpoint(
    "/merchant/promotions/<kind>/<int:promotion_id>/evaluation",
    "GET",
    auth="merchant",
    query=(("from", DATE), ("to", DATE)),
    response=responses.PromotionEvaluation,
)
def promotion_evaluation(kind: str, promotion_id: int):
    """A promotion's evaluation: exposed vs comparable unexposed members, incremental orders and
    revenue with a 95% interval, cost from the ledgers, ROI, sales opportunities. kind: product,
    snap, groupbuy, auction, guess, coupon or campaign"""
    return _evaluate(kind, promotion_id, current_user.id)


def _evaluate(kind: str, promotion_id: int, merchant_user_id: int | None):
    return service.evaluate(
        kind,
        promotion_id,
        merchant_user_id=merchant_user_id,
        raw_from=request.args.get("from"),
        raw_to=request.args.get("to"),
    )


@endpoint(
    "/admin/promotions/<kind>/<int:promotion_id>/evaluation",
    "GET",
    auth="admin",
    query=(("from", DATE), ("to", DATE)),
    response=responses.PromotionEvaluation,
)
def admin_promotion_evaluation(kind: str, promotion_id: int):
    """Any merchant's promotion evaluation, for admins: the same figures as the merchant's (kind:
    product, snap, groupbuy, auction, guess, coupon or campaign)"""
    return _evaluate(kind, promotion_id, None)
