"""Campaign tables: contact settings and consent, account tokens, segments, campaigns,
one delivery row per (campaign, member), suppressed addresses and the SMS outbox.

A member without a ``ContactSettings`` row has the defaults (marketing email as the
``MARKETING_EMAIL_DEFAULT`` setting says, no SMS, nothing verified); segment queries
outer-join the table and read the same defaults in SQL.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import PrimaryKey, StampedNow, UTCDateTime, cascade_key
from ..extensions import db

CHANNELS = ("email", "sms")
CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "sent", "paused", "cancelled")
# pending: planned, not yet tried; sending: claimed by a batch (never tried again);
# sent / failed / skipped (consent, cap, suppression: ``reason``); holdout: the control.
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "skipped", "holdout")
TOKEN_PURPOSES = ("verify_email", "reset_password", "change_email")


class ContactSettings(db.Model):
    """How and whether a member may be reached: consent per channel, verified addresses,
    notification-email preferences and the digest."""

    __tablename__ = "campaign_contacts"

    user_id: Mapped[int] = cascade_key("users.id")
    email_verified_at: Mapped[datetime | None]
    marketing_email: Mapped[bool | None] = mapped_column(Boolean)  # None: the site default
    marketing_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    track_opens: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    phone_verified_at: Mapped[datetime | None]
    phone_code_hash: Mapped[str | None] = mapped_column(String(64))
    phone_code_expires_at: Mapped[datetime | None]
    # {"mention": "instant" | "digest" | "off", ...}; a kind not named is "instant".
    notification_prefs: Mapped[dict] = mapped_column(JSON, default=dict)
    digest: Mapped[str] = mapped_column(String(8), default="off")  # off | daily | weekly
    last_digest_at: Mapped[datetime | None]
    updated_at: Mapped[StampedNow]


class AccountToken(db.Model):
    """A signed link's server half: single use (``used_at`` claimed once), expiring."""

    __tablename__ = "account_tokens"
    __table_args__ = (Index("ix_account_tokens_user_purpose", "user_id", "purpose"),)

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the random nonce
    email: Mapped[str] = mapped_column(String(254))  # the address it was sent to / moves to
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]


class Suppression(db.Model):
    """An address nothing more is sent to (a hard bounce, a complaint)."""

    __tablename__ = "campaign_suppressions"

    id: Mapped[PrimaryKey]
    address: Mapped[str] = mapped_column(String(254), unique=True)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[StampedNow]


class Bounce(db.Model):
    """A bounce (DSN) that came back for an address: hard ones suppress it at once, soft
    ones after ``CAMPAIGN_SOFT_BOUNCE_LIMIT`` within ``CAMPAIGN_SOFT_BOUNCE_DAYS``."""

    __tablename__ = "campaign_bounces"
    __table_args__ = (
        CheckConstraint("kind IN ('hard', 'soft')", name="kind_known"),
        Index("ix_campaign_bounces_address_created", "address", "created_at"),
    )

    id: Mapped[PrimaryKey]
    address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # the DSN's, e.g. 5.1.1
    diagnostic: Mapped[str] = mapped_column(String(200), default="")
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_at: Mapped[StampedNow]


class Segment(db.Model):
    __tablename__ = "campaign_segments"

    id: Mapped[PrimaryKey]
    name: Mapped[str] = mapped_column(String(120))
    rule: Mapped[dict] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[StampedNow]
    updated_at: Mapped[StampedNow]


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("holdout_bp >= 0 AND holdout_bp <= 5000", name="holdout_range"),
        Index("ix_campaigns_status_scheduled", "status", "scheduled_at"),
    )

    id: Mapped[PrimaryKey]
    name: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(8))
    segment_id: Mapped[int] = mapped_column(ForeignKey("campaign_segments.id"))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    coupon_code: Mapped[str] = mapped_column(String(64), default="")
    holdout_bp: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    scheduled_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Planning streams the segment in keyset pages; this is the last member id planned.
    planned_through: Mapped[int] = mapped_column(default=0)
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # planning finished
    seen: Mapped[int] = mapped_column(default=0)  # members planned so far
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[StampedNow]

    segment: Mapped[Segment] = relationship()


class Delivery(db.Model):
    """One member of one campaign: claimed once (``pending`` -> ``sending``) before sending."""

    __tablename__ = "campaign_deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id", name="uq_campaign_deliveries_campaign_user"),
        Index("ix_campaign_deliveries_campaign_status", "campaign_id", "status", "id"),
        Index("ix_campaign_deliveries_user_sent", "user_id", "sent_at"),
    )

    id: Mapped[PrimaryKey]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(254), default="")
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # SMS quiet hours
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]


class NotificationEmail(db.Model):
    """A notification that was emailed (once), or folded into a digest."""

    __tablename__ = "notification_emails"

    notification_id: Mapped[int] = cascade_key("notifications.id")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[StampedNow]


class SmsMessage(db.Model):
    """The sandbox provider's outbox (and a log of what every provider was handed)."""

    __tablename__ = "sms_outbox"

    id: Mapped[PrimaryKey]
    provider: Mapped[str] = mapped_column(String(16))
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(default=1)
    reference: Mapped[str] = mapped_column(String(64), default="")
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[StampedNow]
