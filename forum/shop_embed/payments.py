"""Payment providers behind one small interface, so a real gateway can be added later.

A provider is asked to ``charge`` an order and answers with a ``Charge``: either
``succeeded`` (money is in; the order becomes paid at once), ``awaiting`` (the
buyer pays outside Plaza, e.g. bank transfer or cash on delivery, and the
merchant marks the order paid) or ``declined`` (refused; nothing was charged, the
service answers 409 ``payment_declined``). ``refund`` gives the money back or raises.

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
    status: str  # "succeeded" | "awaiting" | "declined" (nothing was charged)
    reference: str = ""


class PaymentProvider:
    name: str = ""
    label: str = ""
    description: str = ""
    unavailable: str = "Not available on this site."

    def available(self, merchant=None) -> bool:
        """Whether buyers may use it here, and with ``merchant``'s shop when one is given."""
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
    unavailable = "This shop does not take offline payments."

    def available(self, merchant=None) -> bool:
        # A merchant's opt-in per shop: it holds the order's units for days.
        return merchant is not None and bool(merchant.offline_payments)

    def charge(self, order) -> Charge:
        return Charge("awaiting", f"OFF-{order.id}")

    def refund(self, order, payment) -> str:
        return f"OFF-REFUND-{order.id}"  # the merchant pays it back by hand


class SandboxProvider(PaymentProvider):
    """Pays at once with play money: for development, tests and the demo; never production."""

    name = "sandbox"
    label = "Sandbox card (test payments)"
    description = "Pays instantly with play money. Only available on test and demo sites."

    def available(self, merchant=None) -> bool:
        return (
            bool(current_app.config.get("PAYMENTS_SANDBOX"))
            and current_app.config.get("ENV") != "production"
        )

    def charge(self, order) -> Charge:
        return Charge("succeeded", "SBX-" + secrets.token_hex(6).upper())

    def refund(self, order, payment) -> str:
        return "SBX-R-" + secrets.token_hex(6).upper()


# Checkout lists them in this order (the sandbox only where it is switched on). A fixed
# table, not a registry: a new provider is added here.
PROVIDERS: dict[str, PaymentProvider] = {p.name: p for p in (SandboxProvider(), OfflineProvider())}


def available_providers(merchant=None) -> list[PaymentProvider]:
    """The providers a buyer of ``merchant``'s shop may choose."""
    return [p for p in PROVIDERS.values() if p.available(merchant)]


def provider_named(name, merchant=None) -> PaymentProvider:
    """The provider called ``name``; 422 ``unknown_provider`` when unknown,
    ``provider_unavailable`` when switched off here or for ``merchant``'s shop."""
    provider = PROVIDERS.get(name) if isinstance(name, str) else None
    if provider is None:
        choices = ", ".join(sorted(PROVIDERS))
        raise ValidationFailed(
            "Unknown payment provider.",
            code="unknown_provider",
            fields={"provider": [f"Choose one of: {choices}."]},
        )
    if not provider.available(merchant):
        raise ValidationFailed(
            "That payment provider is not available here.",
            code="provider_unavailable",
            fields={"provider": [provider.unavailable]},
        )
    return provider


def for_refund(name: str | None) -> PaymentProvider:
    """The provider that took a payment, for refunding it (even if it is switched off now)."""
    return PROVIDERS.get(name or "", PROVIDERS["offline"])
