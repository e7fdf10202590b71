"""Review endpoints (shared/API.md, Reviews): write, list, vote, reply; plus edit,
delete, flag and experience-report decisions."""

from flask import request

from ..errors import NotFound
from ..permissions import acting_user as _user
from ..reviews import service
from ..reviews.schemas import (
    DecisionBody,
    FlagBody,
    ReplyBody,
    ReviewBody,
    ReviewPatch,
    dump_reply,
    dump_report,
    dump_review,
)
from ..schemas import ReasonBody
from ..shop_embed import service as shop
from . import bp, responses
from .core import PAGE, endpoints, page_args

endpoint = endpoints(bp, tag="reviews")


SORT = ("sort", {"type": "string", "enum": list(service.SORTS)})


@endpoint(
    "/products/<int:product_id>/reviews",
    "POST",
    body=ReviewBody,
    status=201,
    errors=(409, 429),
    response=responses.Review,
)
def create_review(product_id: int, data: ReviewBody):
    """Review a product you bought (once per completed order item)"""
    review = service.create_review(_user(), product_id, **data.model_dump())
    return dump_review(review)


@endpoint(
    "/products/<int:product_id>/reviews",
    "GET",
    auth="anyone",
    query=(SORT, *PAGE),
    response=responses.ReviewPage,
)
def list_reviews(product_id: int):
    """A product's reviews, most helpful, newest or best rated first"""
    product = shop.get_product(product_id, viewer=_user())
    page = service.list_reviews(
        product.id,
        sort=request.args.get("sort") or "helpful",
        **page_args(),
    )
    return page.dump(dump_review)


@endpoint("/reviews/<int:review_id>", "GET", auth="anyone", response=responses.Review)
def get_review(review_id: int):
    """One review"""
    return dump_review(service.get_review(review_id, viewer=_user()))


@endpoint(
    "/reviews/<int:review_id>", "PATCH", body=ReviewPatch, errors=(409,), response=responses.Review
)
def edit_review(review_id: int, data: ReviewPatch):
    """Edit your review (the old version is kept)"""
    review = service.get_review(review_id, viewer=_user())
    return dump_review(service.edit_review(_user(), review, **data.model_dump()))


@endpoint("/reviews/<int:review_id>", "DELETE", body=ReasonBody)
def delete_review(review_id: int, data: ReasonBody):
    """Delete a review (its author, or a moderator with a reason); its reward is taken back"""
    service.delete_review(_user(), service.get_review(review_id, viewer=_user()), data.reason)


@endpoint(
    "/reviews/<int:review_id>/helpful", "POST", errors=(409,), response=responses.HelpfulCount
)
def helpful(review_id: int):
    """Find a review helpful (once)"""
    review = service.get_review(review_id, viewer=_user())
    return {"helpful_count": service.vote_helpful(_user(), review)}


@endpoint(
    "/reviews/<int:review_id>/reply",
    "POST",
    body=ReplyBody,
    status=201,
    errors=(409,),
    response=responses.ReviewReply,
)
def reply(review_id: int, data: ReplyBody):
    """The product's merchant replies publicly (once)"""
    review = service.get_review(review_id, viewer=_user())
    return dump_reply(service.reply(_user(), review, data.body))


@endpoint("/reviews/<int:review_id>/flag", "POST", body=FlagBody, errors=(409,))
def flag(review_id: int, data: FlagBody):
    """Flag a review for the moderators"""
    review = service.get_review(review_id, viewer=_user())
    service.flag_review(_user(), review, data.reason, data.note)


@endpoint(
    "/reports/<int:report_id>/decision",
    "POST",
    body=DecisionBody,
    errors=(409,),
    response=responses.ExperienceReport,
)
def decide_report(report_id: int, data: DecisionBody):
    """Approve or reject an experience report (a moderator or its merchant)"""
    report = service.get_report(report_id)
    if not service.can_decide(_user(), report):
        raise NotFound("No such report.")  # others may not even see that it exists
    service.decide_report(_user(), report, approve=data.approve, reason=data.reason)
    return dump_report(report)
