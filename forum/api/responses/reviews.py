"""Reviews: reviews, their replies and helpful votes, experience-report decisions."""

from .shared import Cursor, Out, Timestamp, UserRef


class ReviewReply(Out):
    review_id: int
    body_html: str
    created_at: Timestamp | None


class Review(Out):
    id: int
    product_id: int
    author: UserRef
    rating: int
    title: str
    body: str
    body_html: str
    verified_purchase: bool
    purchased_at: str  # the purchase month, YYYY-MM
    rewarded: bool
    helpful_count: int
    photos: list[str]
    reply: ReviewReply | None
    created_at: Timestamp | None
    edited_at: Timestamp | None


class ReviewPage(Out):
    items: list[Review]
    next_cursor: Cursor


class HelpfulCount(Out):
    helpful_count: int


class ExperienceReport(Out):
    id: int
    thread_id: int
    product_id: int
    status: str
    reason: str | None
    rewarded: bool
