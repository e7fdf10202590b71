"""Response shape of a promotion's evaluation (insight)."""

from pydantic import ConfigDict, Field

from .shared import Out


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
