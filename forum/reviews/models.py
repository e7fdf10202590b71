"""Review tables: reviews with their photos, revisions and helpful votes; experience
reports (a thread tied to a completed order item); the rewards paid for both; the
review invitations sent when an order completes; merchants' reward top-ups.

The product's rating aggregates (count, sum, 1-5 histogram) are columns of the
product row (``shop_products.rating_*``), moved in SQL by the shop service in the
same transaction as every review insert, edit, hide, restore and delete, so every
page and the API read them with the product and they never drift.
"""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import now
from ..database import PrimaryKey, StampedNow, cascade_key
from ..extensions import db

MAX_PHOTOS = 6
REPORT_STATES = ("pending", "approved", "rejected", "removed")


class Review(db.Model):
    """One buyer's review of one order item (the unique order item makes it once only).

    A review counts in its product's aggregates while it is neither hidden (by a
    moderator) nor deleted; the row itself is never removed, so the order item stays
    used and the history of rewards stays explained.
    """

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
        CheckConstraint("helpful_count >= 0", name="helpful_not_negative"),
        Index("ix_reviews_product_listing", "product_id", "hidden_at", "deleted_at", "id"),
        Index("ix_reviews_product_address", "product_id", "address_key"),
    )

    id: Mapped[PrimaryKey]
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("shop_order_items.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rating: Mapped[int]
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # When the goods were bought: the badge says "Verified purchase · March 2026".
    purchased_at: Mapped[datetime]
    # A digest of the normalised shipping address: another account at the same
    # address cannot review the same product.
    address_key: Mapped[str | None] = mapped_column(String(64))
    helpful_count: Mapped[int] = mapped_column(default=0)
    # Disclosure: true once a reward was paid for it (incentivised reviews are labelled).
    rewarded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reply_body: Mapped[str | None] = mapped_column(Text)
    reply_html: Mapped[str | None] = mapped_column(Text)
    reply_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]
    edited_at: Mapped[datetime | None]
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    photos: Mapped[list["ReviewPhoto"]] = relationship(
        order_by="ReviewPhoto.position", cascade="all, delete-orphan"
    )

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def counts(self) -> bool:
        return self.hidden_at is None and self.deleted_at is None


class ReviewPhoto(db.Model):
    __tablename__ = "review_photos"

    id: Mapped[PrimaryKey]
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)


class ReviewRevision(db.Model):
    """The review as it was before each edit."""

    __tablename__ = "review_revisions"

    id: Mapped[PrimaryKey]
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rating: Mapped[int]
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[StampedNow]


class ReviewVote(db.Model):
    """One "helpful" per member and review (the primary key refuses a second)."""

    __tablename__ = "review_votes"

    review_id: Mapped[int] = cascade_key("reviews.id")
    user_id: Mapped[int] = cascade_key("users.id")
    created_at: Mapped[StampedNow]


class ExperienceReport(db.Model):
    """A long-form thread tied to one completed order item of its author.

    ``pending`` until a moderator or the product's merchant approves or rejects it
    (the author sees the reason); ``removed`` when taken down for abuse afterwards.
    """

    __tablename__ = "experience_reports"
    __table_args__ = (Index("ix_experience_reports_product", "product_id", "status", "id"),)

    id: Mapped[PrimaryKey]
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"))
    order_item_id: Mapped[int] = mapped_column(ForeignKey("shop_order_items.id"), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decision_reason: Mapped[str | None] = mapped_column(String(300))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    rewarded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[StampedNow]

    author: Mapped[User] = relationship(foreign_keys=[author_id])


class RewardGrant(db.Model):
    """A reward paid for a review or a report: at most one per kind and order item.

    The unique (kind, order_item_id) and the ledger's idempotency keys both make a
    second payment impossible; a reversal is a negative ledger entry with its own key
    and flips ``status`` here once (a conditional UPDATE).
    """

    __tablename__ = "review_rewards"
    __table_args__ = (
        UniqueConstraint("kind", "order_item_id", name="uq_review_rewards_kind_item"),
    )

    id: Mapped[PrimaryKey]
    kind: Mapped[str] = mapped_column(String(16))  # "review" | "report"
    subject_id: Mapped[int] = mapped_column(Integer)  # the review's or report's id
    order_item_id: Mapped[int] = mapped_column(ForeignKey("shop_order_items.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    points: Mapped[int] = mapped_column(default=0)
    credit_cents: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="paid")  # paid | reversed
    reversed_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[StampedNow]
    reversed_at: Mapped[datetime | None]


class ReviewInvitation(db.Model):
    """The invitation to review a completed order, and its one reminder (their emails are
    campaigns' notification email, once per notification)."""

    __tablename__ = "review_invitations"

    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    invited_at: Mapped[datetime] = mapped_column(default=now, index=True)
    reminded_at: Mapped[datetime | None]


class MerchantReward(db.Model):
    """A merchant's optional top-up on the site's reward (same for every rating)."""

    __tablename__ = "review_merchant_rewards"
    __table_args__ = (
        CheckConstraint(
            "review_points >= 0 AND report_points >= 0 AND review_credit_cents >= 0 "
            "AND report_credit_cents >= 0",
            name="topups_not_negative",
        ),
    )

    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"), primary_key=True)
    review_points: Mapped[int] = mapped_column(default=0)
    review_credit_cents: Mapped[int] = mapped_column(default=0)
    report_points: Mapped[int] = mapped_column(default=0)
    report_credit_cents: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[StampedNow]
