"""API bodies and dumps for segments, campaigns and member settings."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..schemas import Body, DbInt, Id


class SegmentBody(Body):
    name: str = Field(max_length=120)
    rule: dict[str, Any]


class RuleBody(Body):
    rule: dict[str, Any]


class CampaignBody(Body):
    name: str = Field(max_length=120)
    channel: Literal["email", "sms"]
    segment_id: Id
    subject: str = Field(default="", max_length=200)
    body: str = Field(max_length=20_000)
    holdout_bp: DbInt = 0
    coupon_code: str = Field(default="", max_length=64)


class SettingsBody(Body):
    marketing_email: bool | None = None
    marketing_sms: bool | None = None
    track_opens: bool | None = None
    notifications: dict[str, str] | None = None
    digest: str | None = Field(default=None, max_length=8)
    # {type: shown in the bell} (notifications.service.TYPES); checked by the service
    in_app: dict[str, Any] | None = None


class PasswordResetBody(Body):
    email: str = Field(max_length=254)


class PasswordResetConfirmBody(Body):
    token: str = Field(max_length=500)
    password: str = Field(max_length=256)


class SegmentOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    name: str
    rule: dict[str, Any]
    member_count: int


class SegmentPreview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_count: int
    sample: list[str]


class CampaignOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    name: str
    channel: str
    segment_id: int
    status: Literal["draft", "scheduled", "sending", "sent", "paused", "cancelled"]
    holdout_bp: int
    recipients: int
    sent: int
    failed: int
    skipped: int
    holdout: int
    opened: int
    clicked: int
    unsubscribed: int
    orders: int
    revenue_cents: int
    coupon_uses: int | None
    lift: dict[str, Any] | None


class SettingsOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marketing_email: bool
    marketing_sms: bool
    track_opens: bool
    email_verified: bool
    phone: str | None
    phone_verified: bool
    notifications: dict[str, str]
    digest: str
    in_app: dict[str, bool]


class Accepted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: bool


class Unsubscribed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unsubscribed: str  # the scope turned off: marketing_email, marketing_sms, notify:<kind>


class ResetDone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str


def dump_segment(segment, member_count: int) -> dict:
    return {
        "id": segment.id,
        "name": segment.name,
        "rule": segment.rule,
        "member_count": member_count,
    }
