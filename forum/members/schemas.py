"""API bodies and response models of member operations (shared/API.md, Members), and dumps."""

from pydantic import BaseModel, ConfigDict, Field

from ..schemas import Body, DbInt, iso


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- bodies ----------------------------------------------------------------------------


class TierRulesBody(Body):
    shopper_min_orders: DbInt | None = None
    vip_min_orders: DbInt | None = None
    vip_min_spend_cents: DbInt | None = None
    window_days: DbInt | None = None
    vip_rebate_bp: DbInt | None = None
    vip_free_shipping: bool | None = None
    vip_grace_days: DbInt | None = None
    manual_grant_days: DbInt | None = None
    free_shipping_funded_by: str | None = Field(default=None, max_length=16)
    rebate_funded_by: str | None = Field(default=None, max_length=16)
    points_per_unit: DbInt | None = None
    points_expire_days: DbInt | None = None


class GrantBody(Body):
    tier: str = Field(max_length=16)
    reason: str = Field(max_length=500)


class CreditBody(Body):
    amount_cents: DbInt
    reason: str = Field(max_length=500)


class PointsBody(Body):
    amount: DbInt
    reason: str = Field(max_length=500)


# --- responses -----------------------------------------------------------------------


class Perks(Out):
    free_shipping: bool
    rebate_bp: int


class Membership(Out):
    tier: str
    tier_since: str | None
    completed_orders: int
    spend_cents: int
    lifetime_orders: int
    next_tier: str | None
    missing: dict[str, int]
    perks: Perks
    in_grace: bool
    vip_until: str | None
    manual_tier: str | None
    manual_until: str | None


class LedgerEntryOut(Out):
    id: int
    account: str
    amount: int
    reason: str
    created_at: str | None
    order_id: int | None


class EntryPage(Out):
    items: list[LedgerEntryOut]
    next_cursor: str | None


class Wallet(Out):
    credit_cents: int
    pending_credit_cents: int
    points: int
    entries: EntryPage


class TierRules(Out):
    shopper_min_orders: int
    vip_min_orders: int
    vip_min_spend_cents: int
    window_days: int
    vip_rebate_bp: int
    vip_free_shipping: bool
    vip_grace_days: int
    manual_grant_days: int
    free_shipping_funded_by: str
    rebate_funded_by: str
    points_per_unit: int
    points_expire_days: int
    rebate_lock_days: int


# --- dumps ---------------------------------------------------------------------------


def dump_membership(standing, *, tier_since, rules) -> dict:
    vip = standing.tier == "vip"
    return {
        "tier": standing.tier,
        "tier_since": iso(tier_since),
        "completed_orders": standing.completed_orders,
        "spend_cents": standing.spend_cents,
        "lifetime_orders": standing.lifetime_orders,
        "next_tier": standing.next_tier,
        "missing": dict(standing.missing),
        "perks": {
            "free_shipping": bool(vip and rules.vip_free_shipping),
            "rebate_bp": rules.vip_rebate_bp if vip else 0,
        },
        "in_grace": standing.in_grace,
        "vip_until": iso(standing.vip_until),
        "manual_tier": standing.manual_tier,
        "manual_until": iso(standing.manual_until),
    }


def dump_entry(entry) -> dict:
    return {
        "id": entry.id,
        "account": entry.account,
        "amount": entry.amount,
        "reason": entry.reason,
        "created_at": iso(entry.created_at),
        "order_id": entry.order_id,
    }
