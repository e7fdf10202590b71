"""Attribution tables: clicks, impression counters, conversions, credits, commission ledger.

- ``Click`` is the touch log: one row per (deduplicated) visit of a tracked link.
- ``ImpressionCount`` is a per (day, source, embed) counter moved in SQL;
  ``ImpressionSeen`` is the compact "this viewer already saw it today" set used
  when Redis is not configured.
- ``Conversion`` is the append-only list of things merchants pay for: one row per
  order and one per action, guarded by a UNIQUE ``key`` so a repeated delivery of
  the same event is recorded once. ``Credit`` says which touches it is credited to
  (one for first/last touch, several for linear) and with what share.
- ``SignupCandidate`` is a registration that followed a click: it becomes a
  ``signup`` conversion only once the account acts like a person (first post,
  first paid order, a verified email) and, when the velocity rules call it
  suspicious, only once the merchant approves it.
- ``Commission`` is the ledger: an ``earned`` row (amount >= 0) per credited,
  eligible touch, and at most one ``reversal`` row (its exact negative) per earned
  row. A conversion's commission is the sum of its rows, so it can never go
  negative. Status moves pending -> approved -> paid by conditional UPDATEs.
"""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import PrimaryKey, StampedNow, UTCDateTime, cascade_key
from ..extensions import db

MODELS = ("last", "first", "linear", "decay", "position")
ACTION_KINDS = ("signup", "event_signup", "team_join", "first_purchase")
CONVERSION_KINDS = ("order", *ACTION_KINDS)
COMMISSION_STATUSES = ("pending", "approved", "paid", "reversed")
# waiting: no sign of a person yet; held: waits for the merchant's review;
# converted: the signup conversion exists; rejected: the merchant said no.
CANDIDATE_STATUSES = ("waiting", "held", "converted", "rejected")


class MerchantSettings(db.Model):
    """What a merchant pays: a CPS rate and a CPA amount per action, and the credit model."""

    __tablename__ = "attr_merchant_settings"
    __table_args__ = (
        CheckConstraint("cps_rate_bp >= 0 AND cps_rate_bp <= 10000", name="cps_rate_in_range"),
        CheckConstraint(
            "cpa_signup_cents >= 0 AND cpa_event_signup_cents >= 0 AND cpa_team_join_cents >= 0 "
            "AND cpa_first_purchase_cents >= 0",
            name="cpa_not_negative",
        ),
    )

    merchant_id: Mapped[int] = cascade_key("users.id")
    cps_rate_bp: Mapped[int] = mapped_column(default=0)
    cpa_signup_cents: Mapped[int] = mapped_column(default=0)
    cpa_event_signup_cents: Mapped[int] = mapped_column(default=0)
    cpa_team_join_cents: Mapped[int] = mapped_column(default=0)
    cpa_first_purchase_cents: Mapped[int] = mapped_column(default=0)
    model: Mapped[str] = mapped_column(String(8), default="last")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    updated_at: Mapped[StampedNow]

    def cpa_cents(self, kind: str) -> int:
        return int(getattr(self, f"cpa_{kind}_cents", 0) or 0)


class Click(db.Model):
    """A visit of a tracked link: who (user or anonymous visitor), from where, to which offer."""

    __tablename__ = "attr_clicks"
    __table_args__ = (
        Index("ix_attr_clicks_user_time", "user_id", "created_at"),
        Index("ix_attr_clicks_visitor_time", "visitor_id", "created_at"),
        Index("ix_attr_clicks_merchant_time", "merchant_id", "created_at"),
        Index("ix_attr_clicks_source", "source_kind", "source_id"),
    )

    id: Mapped[PrimaryKey]
    source_kind: Mapped[str] = mapped_column(String(8))  # "post" | "message"
    source_id: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    room: Mapped[str | None] = mapped_column(String(64))  # chat room of a message
    embed_kind: Mapped[str] = mapped_column(String(16))
    embed_id: Mapped[int]
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    visitor_id: Mapped[str | None] = mapped_column(String(32))
    ip_hash: Mapped[str] = mapped_column(String(32), default="")
    ua_hash: Mapped[str] = mapped_column(String(32), default="")
    # The author following their own link: recorded, never earns.
    is_self: Mapped[bool] = mapped_column(Boolean, default=False)
    # Same viewer, same link, same dedupe bucket: the database keeps one row.
    dedupe_key: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[StampedNow]


class ImpressionCount(db.Model):
    """How often a widget was shown in one post or message on one (UTC) day."""

    __tablename__ = "attr_impression_counts"
    __table_args__ = (
        UniqueConstraint(
            "day",
            "source_kind",
            "source_id",
            "embed_kind",
            "embed_id",
            name="uq_attr_impression_counts_key",
        ),
        Index("ix_attr_impression_counts_merchant_day", "merchant_id", "day"),
    )

    id: Mapped[PrimaryKey]
    day: Mapped[date] = mapped_column(Date)
    source_kind: Mapped[str] = mapped_column(String(8))
    source_id: Mapped[int]
    embed_kind: Mapped[str] = mapped_column(String(16))
    embed_id: Mapped[int]
    author_id: Mapped[int | None]
    room: Mapped[str | None] = mapped_column(String(64))
    merchant_id: Mapped[int | None]
    count: Mapped[int] = mapped_column(default=0)


class ImpressionSeen(db.Model):
    """One row per (viewer, source, embed, day) already counted; pruned after a day."""

    __tablename__ = "attr_impression_seen"

    digest: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)


class Conversion(db.Model):
    """An order or an action a merchant pays for; one row per ``key``, never rewritten.

    ``order_status``/``completed_at``/``reversed_at`` follow the order for display;
    the money lives in ``Commission`` rows.
    """

    __tablename__ = "attr_conversions"
    __table_args__ = (
        Index("ix_attr_conversions_merchant_time", "merchant_id", "occurred_at"),
        Index("ix_attr_conversions_order", "order_id"),
        CheckConstraint("revenue_cents >= 0", name="revenue_not_negative"),
        CheckConstraint("commission_cents >= 0", name="commission_not_negative"),
    )

    id: Mapped[PrimaryKey]
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # CONVERSION_KINDS
    merchant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None]
    revenue_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    model: Mapped[str] = mapped_column(String(8), default="last")
    direct: Mapped[bool] = mapped_column(Boolean, default=False)
    rate_bp: Mapped[int] = mapped_column(default=0)  # the CPS rate at the time
    commission_cents: Mapped[int] = mapped_column(default=0)  # before self-referral cuts
    order_status: Mapped[str | None] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    reversed_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]

    credits: Mapped[list["Credit"]] = relationship(order_by="Credit.id", viewonly=True)


class Credit(db.Model):
    """A touch a conversion is credited to, with its share (basis points) of the value."""

    __tablename__ = "attr_credits"
    __table_args__ = (
        UniqueConstraint("conversion_id", "click_id", name="uq_attr_credits_conversion_click"),
        Index("ix_attr_credits_source", "source_kind", "source_id"),
        Index("ix_attr_credits_author", "author_id", "id"),
    )

    id: Mapped[PrimaryKey]
    conversion_id: Mapped[int] = mapped_column(
        ForeignKey("attr_conversions.id", ondelete="CASCADE"), index=True
    )
    click_id: Mapped[int] = mapped_column(ForeignKey("attr_clicks.id", ondelete="CASCADE"))
    source_kind: Mapped[str] = mapped_column(String(8))
    source_id: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    room: Mapped[str | None] = mapped_column(String(64))
    embed_kind: Mapped[str] = mapped_column(String(16))
    embed_id: Mapped[int]
    weight_bp: Mapped[int]
    revenue_cents: Mapped[int] = mapped_column(default=0)
    # The author is the customer (or the merchant): the share earns nothing.
    self_referral: Mapped[bool] = mapped_column(Boolean, default=False)

    conversion: Mapped[Conversion] = relationship(viewonly=True)


class Payout(db.Model):
    """An admin paid a merchant's approved commission."""

    __tablename__ = "attr_payouts"

    id: Mapped[PrimaryKey]
    merchant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    total_cents: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    entries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[StampedNow]


class Commission(db.Model):
    """The commission ledger (see the module docstring)."""

    __tablename__ = "attr_commissions"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'earned' AND amount_cents >= 0) OR (kind = 'reversal' AND amount_cents <= 0)",
            name="sign_matches_kind",
        ),
        CheckConstraint("reward_cents >= 0", name="reward_not_negative"),
        Index("ix_attr_commissions_merchant_status", "merchant_id", "status"),
        Index("ix_attr_commissions_due", "status", "approvable_at"),
        Index("ix_attr_commissions_author", "author_id", "id"),
    )

    id: Mapped[PrimaryKey]
    # "earn:<credit id>" or "reverse:<earned row id>": a second write of either is refused.
    entry_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # "earned" | "reversal"
    conversion_id: Mapped[int] = mapped_column(
        ForeignKey("attr_conversions.id", ondelete="CASCADE"), index=True
    )
    credit_id: Mapped[int] = mapped_column(
        ForeignKey("attr_credits.id", ondelete="CASCADE"), index=True
    )
    merchant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    status: Mapped[str] = mapped_column(String(8), default="pending")
    approvable_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime
    )  # None: order not completed yet
    approved_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    reversed_at: Mapped[datetime | None]
    payout_id: Mapped[int | None] = mapped_column(
        ForeignKey("attr_payouts.id", ondelete="SET NULL")
    )
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("attr_commissions.id", ondelete="CASCADE")
    )
    # Store credit given to the author when this row was approved.
    reward_cents: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[StampedNow]

    conversion: Mapped[Conversion] = relationship(viewonly=True)
    credit: Mapped[Credit] = relationship(viewonly=True)


class SignupCandidate(db.Model):
    """A registration led by a click on a merchant's offer, before it is worth a sign-up CPA."""

    __tablename__ = "attr_signup_candidates"
    __table_args__ = (
        Index("ix_attr_signup_candidates_address", "ip_hash", "registered_at"),
        Index(
            "ix_attr_signup_candidates_link",
            "source_kind",
            "source_id",
            "embed_kind",
            "embed_id",
            "registered_at",
        ),
        Index("ix_attr_signup_candidates_merchant", "merchant_id", "status", "registered_at"),
    )

    user_id: Mapped[int] = cascade_key("users.id")
    merchant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    click_id: Mapped[int | None] = mapped_column(ForeignKey("attr_clicks.id", ondelete="SET NULL"))
    source_kind: Mapped[str] = mapped_column(String(8))
    source_id: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    embed_kind: Mapped[str] = mapped_column(String(16))
    embed_id: Mapped[int]
    ip_hash: Mapped[str] = mapped_column(String(32), default="")
    registered_at: Mapped[datetime]
    # Why the velocity rules want a person to look: "address" or "link"; None when clean.
    review_reason: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    activity: Mapped[str | None] = mapped_column(String(16))  # "post" | "order" | "email"
    active_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user = relationship("User", foreign_keys=[user_id], viewonly=True)
