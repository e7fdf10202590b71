"""Response shape of a promotion's evaluation (insight)."""

from pydantic import ConfigDict, Field

from .shared import Out, OverDays


class EvaluationGroup(Out):
    members: int
    buyers: int
    orders: int
    revenue_cents: int
    orders_per_member: float
    revenue_per_member_cents: float


class Interval(Out):
    value: float
    low: float
    high: float


class EvaluationCost(Out):
    discount_cents: int
    commission_cents: int
    cpa_cents: int
    perks_cents: int
    points_cents: int
    total_cents: int
    points_granted: int = Field(description="Points earned for the promotion's orders, net")
    points_redeemed: int = Field(
        description="Points its buyers paid with, net (not costed: order totals are net of them)"
    )


class SalesOpportunities(Out):
    participants: int
    opportunities: int
    converted: int


class EvaluationSource(Out):
    source_kind: str
    source_id: int
    author_id: int | None
    author: str | None
    reach: int
    clickers: int
    buyers: int
    orders: int
    revenue_cents: int


class PromotionEvaluation(Out):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: str
    id: int
    label: str
    merchant_id: int | None
    from_: str = Field(alias="from")
    to: str
    control: str
    method: str
    reach: int
    exposed: EvaluationGroup
    unexposed: EvaluationGroup
    unmatched: int
    incremental_orders: Interval
    incremental_revenue_cents: Interval
    incremental_margin_cents: Interval
    margin_bp: int
    cost: EvaluationCost
    roi: Interval | None
    opportunities: SalesOpportunities
    sources: list[EvaluationSource]


# --- roll-ups: every promotion of a merchant (or of every merchant) side by side ---------


class RollupRow(Out):
    kind: str
    id: int
    label: str
    control: str = Field(description="holdout (the campaign's random holdout) or matched")
    reach: int = Field(description="Exposed members")
    participants: int = Field(
        description="Members who took part in the period: clicked, joined, bought, guessed, "
        "used the coupon"
    )
    exposed_orders: int
    exposed_revenue_cents: int
    unexposed_members: int
    unexposed_orders: int
    unexposed_revenue_cents: int
    incremental_orders: float
    incremental_orders_low: float = Field(description="95% interval, normal approximation")
    incremental_orders_high: float
    incremental_revenue_cents: float
    incremental_revenue_low_cents: float
    incremental_revenue_high_cents: float
    cost_cents: int
    roi: float | None = Field(description="Incremental margin / cost; null when nothing was spent")


class RollupTotals(Out):
    promotions: int
    reach: int = Field(description="Member-exposures: one member may be reached by several")
    incremental_revenue_cents: float
    cost_cents: int
    roi: float | None


class MerchantRollup(OverDays):
    rows: list[RollupRow]
    totals: RollupTotals


class MerchantRollupEntry(Out):
    id: int = Field(description="The merchant's user id")
    name: str
    totals: RollupTotals
    rows: list[RollupRow]


class AdminRollup(OverDays):
    merchants: list[MerchantRollupEntry]
    totals: RollupTotals
