"""API request bodies (types only; ranges and rules are the service's) and JSON dumps."""

from pydantic import BaseModel, ConfigDict, Field

from ..accounts.schemas import dump_user_ref
from ..schemas import Body, DbInt, Id, iso


class ReviewBody(Body):
    order_id: Id | None = None
    rating: DbInt
    title: str = Field(max_length=1000)
    body: str = Field(max_length=100_000)


class ReviewPatch(Body):
    rating: DbInt | None = None
    title: str | None = Field(default=None, max_length=1000)
    body: str | None = Field(default=None, max_length=100_000)


class ReplyBody(Body):
    body: str = Field(max_length=100_000)


class FlagBody(Body):
    reason: str = Field(max_length=32)
    note: str = Field(default="", max_length=2000)


class DecisionBody(Body):
    approve: bool
    reason: str = Field(default="", max_length=2000)


def photo_url(name: str) -> str:
    from flask import url_for

    return url_for("reviews.photo", name=name)


def dump_reply(review) -> dict | None:
    if review.replied_at is None:
        return None
    return {
        "review_id": review.id,
        "body_html": review.reply_html or "",
        "created_at": iso(review.replied_at),
    }


def dump_review(review) -> dict:
    return {
        "id": review.id,
        "product_id": review.product_id,
        "author": dump_user_ref(review.author),
        "rating": review.rating,
        "title": review.title,
        "body": review.body,
        "body_html": review.body_html,
        "verified_purchase": True,
        "purchased_at": review.purchased_at.strftime("%Y-%m"),
        "rewarded": bool(review.rewarded),
        "helpful_count": review.helpful_count,
        "photos": [photo_url(p.name) for p in review.photos],
        "reply": dump_reply(review),
        "created_at": iso(review.created_at),
        "edited_at": iso(review.edited_at),
    }


# --- response shapes (the API validates every answer through them) ---------------------


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserRefOut(Out):
    id: int
    username: str
    trust_level: int


class ReplyOut(Out):
    review_id: int
    body_html: str
    created_at: str | None


class ReviewOut(Out):
    id: int
    product_id: int
    author: UserRefOut
    rating: int
    title: str
    body: str
    body_html: str
    verified_purchase: bool
    purchased_at: str  # the purchase month, YYYY-MM
    rewarded: bool
    helpful_count: int
    photos: list[str]
    reply: ReplyOut | None
    created_at: str | None
    edited_at: str | None


class ReviewPageOut(Out):
    items: list[ReviewOut]
    next_cursor: str | None


class HelpfulOut(Out):
    helpful_count: int


class ReportOut(Out):
    id: int
    thread_id: int
    product_id: int
    status: str
    reason: str | None
    rewarded: bool


def dump_report(report) -> dict:
    return {
        "id": report.id,
        "thread_id": report.thread_id,
        "product_id": report.product_id,
        "status": report.status,
        "reason": report.decision_reason,
        "rewarded": bool(report.rewarded),
    }
