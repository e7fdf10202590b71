"""Insight endpoint: a merchant's promotion evaluation (lift, cost, ROI)."""

from flask import request
from flask_login import current_user

from ..insight import service
from . import bp, responses
from .core import endpoints

endpoint = endpoints(bp, tag="insight")
DATE = {"type": "string", "format": "date"}


@endpoint(
    "/merchant/promotions/<kind>/<int:promotion_id>/evaluation",
    "GET",
    summary="A promotion's evaluation: exposed vs comparable unexposed members, incremental "
    "orders and revenue with a 95% interval, cost from the ledgers, ROI, sales opportunities. "
    "kind: product, snap, groupbuy, auction, guess, coupon or campaign",
    auth="merchant",
    errors=(400, 403, 404),
    query=(("from", DATE), ("to", DATE)),
    response=responses.PromotionEvaluation,
)
def promotion_evaluation(kind: str, promotion_id: int):
    return service.evaluate(
        kind,
        promotion_id,
        merchant_user_id=current_user.id,
        raw_from=request.args.get("from"),
        raw_to=request.args.get("to"),
    )
