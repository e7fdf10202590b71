"""API bodies and JSON shapes for attribution."""

from typing import Literal

from pydantic import Field

from ..accounts.schemas import dump_user_ref
from ..schemas import Body, Id, attrs, iso
from .service import MAX_CPA_CENTS, MAX_RATE_BP, Earning


class CpaBody(Body):
    signup: int | None = Field(default=None, ge=0, le=MAX_CPA_CENTS)
    event_signup: int | None = Field(default=None, ge=0, le=MAX_CPA_CENTS)
    team_join: int | None = Field(default=None, ge=0, le=MAX_CPA_CENTS)
    first_purchase: int | None = Field(default=None, ge=0, le=MAX_CPA_CENTS)


class MerchantSettingsBody(Body):
    """PATCH /merchant: every field optional; what is left out stays as it was."""

    cps_rate_bp: int | None = Field(default=None, ge=0, le=MAX_RATE_BP)
    cpa_cents: CpaBody | None = None
    model: Literal["last", "first", "linear", "decay", "position"] | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")


class PayoutBody(Body):
    merchant_id: Id


def dump_settings(settings) -> dict:
    return {
        "merchant_id": settings.merchant_id,
        "cps_rate_bp": settings.cps_rate_bp,
        "cpa_cents": {
            "signup": settings.cpa_signup_cents,
            "event_signup": settings.cpa_event_signup_cents,
            "team_join": settings.cpa_team_join_cents,
            "first_purchase": settings.cpa_first_purchase_cents,
        },
        "model": settings.model,
        "currency": settings.currency,
        "updated_at": iso(settings.updated_at),
    }


def dump_report_row(row) -> dict:
    """``{key, label, impressions, clicks, actions, orders, revenue_cents, commission_cents, ...}``."""
    return row.as_dict()


def dump_earning(item: Earning) -> dict:
    credit, conversion = item.credit, item.conversion
    return {
        "id": credit.id,
        "conversion": {
            "id": conversion.id,
            "kind": conversion.kind,
            "occurred_at": iso(conversion.occurred_at),
            "model": conversion.model,
            "order_status": conversion.order_status,
        },
        "source": {"kind": credit.source_kind, "id": credit.source_id, "room": credit.room},
        "offer": {"kind": credit.embed_kind, "id": credit.embed_id},
        "weight_bp": credit.weight_bp,
        "self_referral": credit.self_referral,
        "commission_cents": item.amount_cents,
        "reward_cents": item.earned.reward_cents
        if item.earned and item.status != "reversed"
        else 0,
        "currency": item.earned.currency if item.earned else conversion.currency,
        "status": item.status,
    }


def dump_payout(payout) -> dict:
    return {
        **attrs(payout, "id", "merchant_id", "total_cents", "currency", "entries"),
        "created_at": iso(payout.created_at),
    }


def dump_held_signup(candidate) -> dict:
    return {
        "user": dump_user_ref(candidate.user),
        "registered_at": iso(candidate.registered_at),
        "reason": candidate.review_reason,
        "status": candidate.status,
        "activity": candidate.activity,
        "source": {"kind": candidate.source_kind, "id": candidate.source_id},
        "offer": {"kind": candidate.embed_kind, "id": candidate.embed_id},
        "decided_at": iso(candidate.decided_at),
    }
