"""Attribution: commission settings, reports, payouts, earnings, held sign-ups."""

from pydantic import BaseModel, ConfigDict, Field

from .shared import Cursor, Out, Timestamp, UserRef

# --- attribution --------------------------------------------------------------------


class CpaCents(Out):
    signup: int
    event_signup: int
    team_join: int
    first_purchase: int


class MerchantSettings(Out):
    merchant_id: int
    cps_rate_bp: int
    cpa_cents: CpaCents
    model: str
    currency: str
    updated_at: Timestamp | None


class ReportRow(Out):
    key: str
    label: str
    impressions: int
    clicks: int
    actions: int
    orders: int
    revenue_cents: int
    refunded_cents: int
    commission_cents: int
    posts: int
    click_rate: float | None
    conversion_rate: float | None
    revenue_per_post_cents: int | None
    revenue_per_mille_cents: int | None
    commission_per_mille_cents: int | None


class Report(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    group_by: str
    from_: Timestamp | None = Field(alias="from")
    to: Timestamp | None
    items: list[ReportRow]
    next_cursor: Cursor
    totals: ReportRow


class Payout(Out):
    id: int
    merchant_id: int
    total_cents: int
    currency: str
    entries: int
    created_at: Timestamp | None


class PayoutList(Out):
    items: list[Payout]


class Conversion(Out):
    id: int
    kind: str
    occurred_at: Timestamp | None
    model: str
    order_status: str | None


class CreditSource(Out):
    kind: str
    id: int | None
    room: str | None


class Offer(Out):
    kind: str | None
    id: int | None


class Earning(Out):
    id: int
    conversion: Conversion
    source: CreditSource
    offer: Offer
    weight_bp: int
    self_referral: bool
    commission_cents: int
    reward_cents: int
    currency: str
    status: str


class EarningTotals(Out):
    pending_cents: int
    approved_cents: int
    paid_cents: int
    reversed_cents: int
    reward_cents: int
    conversions: int
    orders: int
    earned_cents: int


class EarningPage(Out):
    items: list[Earning]
    next_cursor: Cursor
    totals: EarningTotals


# --- sign-ups held for the merchant's review (attribution) ---------------------------


class OfferRef(Out):
    kind: str | None
    id: int | None


class HeldSignup(Out):
    user: UserRef
    registered_at: Timestamp | None
    reason: str | None
    status: str
    activity: str | None
    source: OfferRef
    offer: OfferRef
    decided_at: Timestamp | None


class HeldSignupList(Out):
    items: list[HeldSignup]
