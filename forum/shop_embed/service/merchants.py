"""Merchant profiles: one shop per user with the merchant role."""

import re

from sqlalchemy import func, select

from ...errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ...extensions import db
from ..models import Merchant, Product
from .common import CURRENCIES, MAX_PRICE_CENTS, SLUG_RE, _text, _whole, is_merchant


def merchant_of(user) -> Merchant | None:
    if not user or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Merchant).where(Merchant.user_id == user.id))


def initials(name: str) -> str:
    words = [w for w in re.split(r"[\s_\-]+", name) if w]
    letters = "".join(w[0] for w in words[:2]) or name[:2]
    return letters[:2].upper()


def _free_slug(base: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:40] or "shop"
    slug, n = base, 1
    while db.session.scalar(select(Merchant.id).where(Merchant.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def require_merchant(user, *, currency: str | None = None) -> Merchant:
    """The merchant profile of ``user``; made with defaults on first use. Forbidden without the role."""
    if not is_merchant(user):
        raise Forbidden("Only merchants can do that.", code="not_a_merchant")
    merchant = merchant_of(user)
    if merchant is None:
        name = user.username.replace("_", " ").title()
        merchant = Merchant(
            user_id=user.id,
            name=name,
            slug=_free_slug(user.username),
            logo_initials=initials(name),
            currency=currency if currency in CURRENCIES else "USD",
            shipping_fee_cents=0,
        )
        db.session.add(merchant)
        db.session.flush()
    return merchant


def save_merchant_profile(
    user,
    *,
    name,
    slug,
    logo_initials,
    tagline="",
    currency="USD",
    shipping_fee_cents=0,
    free_shipping_threshold_cents=None,
    offline_payments=False,
) -> Merchant:
    """Create or update ``user``'s shop profile. Raises ValidationFailed / Conflict(slug_taken)."""
    if not is_merchant(user):
        raise Forbidden("Only merchants have a shop profile.", code="not_a_merchant")
    errors: dict[str, list[str]] = {}
    name = _text(name, "name", 2, 80, "Use 2-80 characters.", errors)
    slug = (slug or "").strip().lower() if isinstance(slug, str) else ""
    if not SLUG_RE.match(slug) or len(slug) > 48:
        errors["slug"] = ["Use lowercase letters, digits and single dashes (max 48)."]
    initials = (logo_initials or "").strip().upper() if isinstance(logo_initials, str) else ""
    if not 1 <= len(initials) <= 3 or not initials.isalnum():
        errors["logo_initials"] = ["Use 1-3 letters or digits."]
    tagline = _text(tagline or "", "tagline", 0, 160, "Keep it under 160 characters.", errors)
    if currency not in CURRENCIES:
        errors["currency"] = [f"Choose one of {', '.join(CURRENCIES)}."]
    _whole(
        shipping_fee_cents,
        "shipping_fee_cents",
        0,
        1_000_000,
        "Use an amount from 0 to 10,000.",
        errors,
    )
    if free_shipping_threshold_cents is not None:
        _whole(
            free_shipping_threshold_cents,
            "free_shipping_threshold_cents",
            0,
            MAX_PRICE_CENTS,
            "Use an amount of 0 or more, or leave it empty.",
            errors,
        )
    if not isinstance(offline_payments, bool):
        errors["offline_payments"] = ["Say yes or no."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)
    merchant = merchant_of(user)
    taken = db.session.scalar(select(Merchant.id).where(Merchant.slug == slug))
    if taken and (merchant is None or taken != merchant.id):
        raise Conflict(
            "That shop address is taken.",
            code="slug_taken",
            fields={"slug": ["That address is taken."]},
        )
    if merchant is not None and currency != merchant.currency:
        priced = db.session.scalar(
            select(func.count())
            .select_from(Product)
            .where(Product.merchant_id == merchant.id, Product.archived_at.is_(None))
        )
        if priced:
            raise field_error(
                "currency", f"Your products are priced in {merchant.currency}; archive them first."
            )
    if merchant is None:
        merchant = Merchant(user_id=user.id)
        db.session.add(merchant)
    merchant.name, merchant.slug, merchant.logo_initials, merchant.tagline = (
        name,
        slug,
        initials,
        tagline,
    )
    merchant.currency = currency
    merchant.shipping_fee_cents = shipping_fee_cents
    merchant.free_shipping_threshold_cents = free_shipping_threshold_cents
    merchant.offline_payments = offline_payments
    db.session.flush()
    return merchant


def get_merchant(slug: str) -> Merchant:
    merchant = db.session.scalar(select(Merchant).where(Merchant.slug == slug))
    if merchant is None:
        raise NotFound("No such shop.")
    return merchant


def list_merchants() -> list[Merchant]:
    return list(db.session.scalars(select(Merchant).order_by(Merchant.name)))


def shipping_for(merchant: Merchant, subtotal_cents: int) -> int:
    threshold = merchant.free_shipping_threshold_cents
    if threshold is not None and subtotal_cents >= threshold:
        return 0
    return merchant.shipping_fee_cents
