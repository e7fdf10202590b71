"""Merchant settings: CPS rate, CPA amounts, credit model and currency."""

from typing import Any

from sqlalchemy import update

from ...accounts.models import User
from ...clock import now
from ...errors import Forbidden, ValidationFailed
from ...extensions import db
from ..models import (
    MODELS,
    MerchantSettings,
)
from .common import CPA_FIELDS, CURRENCY_RE, MAX_CPA_CENTS, MAX_RATE_BP, _insert_once

# --- merchant settings --------------------------------------------------------------


def settings_of(merchant_id: int) -> MerchantSettings:
    """The merchant's settings; an unsaved all-zero, last-touch default when never set."""
    found = db.session.get(MerchantSettings, merchant_id)
    return found if found is not None else default_settings(merchant_id)


def default_settings(merchant_id: int) -> MerchantSettings:
    """What a merchant who never saved settings has: nothing paid, last touch, USD."""
    return MerchantSettings(
        merchant_id=merchant_id,
        cps_rate_bp=0,
        cpa_signup_cents=0,
        cpa_event_signup_cents=0,
        cpa_team_join_cents=0,
        cpa_first_purchase_cents=0,
        model="last",
        currency="USD",
    )


def check_merchant(actor) -> None:
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or not actor.has_role("merchant")
    ):
        raise Forbidden("Only merchants have attribution settings.")


def update_settings(
    actor: User, *, cps_rate_bp=None, cpa_cents: dict | None = None, model=None, currency=None
) -> MerchantSettings:
    """Change the caller's CPS rate, CPA amounts, model or currency; None leaves a field alone.

    Raises Forbidden for non-merchants and ValidationFailed (nothing written) for bad values.
    """
    check_merchant(actor)
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if cps_rate_bp is not None:
        if (
            not isinstance(cps_rate_bp, int)
            or isinstance(cps_rate_bp, bool)
            or not 0 <= cps_rate_bp <= MAX_RATE_BP
        ):
            errors["cps_rate_bp"] = [f"Use basis points from 0 to {MAX_RATE_BP} (100% = 10000)."]
        else:
            changes["cps_rate_bp"] = cps_rate_bp
    for name, value in (cpa_cents or {}).items():
        if name not in CPA_FIELDS:
            errors[f"cpa_cents.{name}"] = [f"Use one of {', '.join(CPA_FIELDS)}."]
        elif value is None:
            continue
        elif (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_CPA_CENTS
        ):
            errors[f"cpa_cents.{name}"] = [f"Use whole cents from 0 to {MAX_CPA_CENTS:,}."]
        else:
            changes[f"cpa_{name}_cents"] = value
    if model is not None:
        if model not in MODELS:
            errors["model"] = [f"Use one of {', '.join(MODELS)}."]
        else:
            changes["model"] = model
    if currency is not None:
        if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
            errors["currency"] = ["Use a three-letter currency code such as USD."]
        else:
            changes["currency"] = currency
    if errors:
        raise ValidationFailed("Some settings are not valid.", fields=errors)
    _insert_once(MerchantSettings, {"merchant_id": actor.id, "updated_at": now()}, ["merchant_id"])
    if changes:
        db.session.execute(
            update(MerchantSettings)
            .where(MerchantSettings.merchant_id == actor.id)
            .values(**changes, updated_at=now())
            .execution_options(synchronize_session=False)
        )
    settings = db.session.get(MerchantSettings, actor.id)
    db.session.refresh(settings)
    return settings
