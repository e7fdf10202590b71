"""Payment providers behind one small interface, so a real gateway can be added later.

A provider is asked to ``charge`` an order and answers with a ``Charge``: either
``succeeded`` (money is in; the order becomes paid at once) or ``awaiting`` (the
buyer pays outside Plaza, e.g. bank transfer or cash on delivery, and the
merchant marks the order paid). ``refund`` gives the money back or raises.

Providers never touch the database: the order service records ``Payment`` rows
and moves the order through its states. A gateway with redirects and webhooks
would add a ``pending`` charge status and a webhook view calling the service.
"""

import secrets
from dataclasses import dataclass

from flask import current_app

from ..errors import ValidationFailed


@dataclass(frozen=True)
class Charge:
    status: str  # "succeeded" | "awaiting"
    reference: str = ""


class PaymentProvider:
    name: str = ""
    label: str = ""
    description: str = ""

    def available(self) -> bool:
        return True

    def charge(self, order) -> Charge:  # pragma: no cover - interface
        raise NotImplementedError

    def refund(self, order, payment) -> str:
        """Give ``payment`` back; returns a reference. Raises a ServiceError when refused."""
        return ""


class OfflineProvider(PaymentProvider):
    """Bank transfer or cash on delivery: nothing happens online; the merchant confirms."""

    name = "offline"
    label = "Bank transfer or cash on delivery"
    description = "Pay the merchant directly; they mark your order paid when the money arrives."

    def charge(self, order) -> Charge:
        return Charge("awaiting", f"OFF-{order.id}")

    def refund(self, order, payment) -> str:
        return f"OFF-REFUND-{order.id}"  # the merchant pays it back by hand


class SandboxProvider(PaymentProvider):
    """Pays at once with play money: for development, tests and the demo; never production."""

    name = "sandbox"
    label = "Sandbox card (test payments)"
    description = "Pays instantly with play money. Only available on test and demo sites."

    def available(self) -> bool:
        return (
            bool(current_app.config.get("PAYMENTS_SANDBOX"))
            and current_app.config.get("ENV") != "production"
        )

    def charge(self, order) -> Charge:
        return Charge("succeeded", "SBX-" + secrets.token_hex(6).upper())

    def refund(self, order, payment) -> str:
        return "SBX-R-" + secrets.token_hex(6).upper()


# Checkout lists them in this order (the sandbox only where it is switched on).
PROVIDERS: dict[str, PaymentProvider] = {p.name: p for p in (SandboxProvider(), OfflineProvider())}


def register(provider: PaymentProvider) -> None:
    PROVIDERS[provider.name] = provider


def available_providers() -> list[PaymentProvider]:
    return [p for p in PROVIDERS.values() if p.available()]


def provider_named(name) -> PaymentProvider:
    """The provider called ``name``; 422 ``invalid`` when unknown, ``provider_unavailable`` when switched off."""
    provider = PROVIDERS.get(name) if isinstance(name, str) else None
    if provider is None:
        choices = ", ".join(sorted(PROVIDERS))
        raise ValidationFailed(
            "Unknown payment provider.",
            code="unknown_provider",
            fields={"provider": [f"Choose one of: {choices}."]},
        )
    if not provider.available():
        raise ValidationFailed(
            "That payment provider is not available here.",
            code="provider_unavailable",
            fields={"provider": ["Not available on this site."]},
        )
    return provider


def for_refund(name: str | None) -> PaymentProvider:
    """The provider that took a payment, for refunding it (even if it is switched off now)."""
    return PROVIDERS.get(name or "", PROVIDERS["offline"])
