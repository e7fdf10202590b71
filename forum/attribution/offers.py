"""Which merchant pays for an offer, and what to call it: one explicit table of offer kinds.

An offer is a widget object some feature embeds in posts and chat: the shop's
product card, promotions' group-buy and snap-up, an event (sponsored). For each
kind this table says, in one place, who owns it and what its name is, read from
the object the owning feature's widget loader returned (``embeds.target``, cached
for the request, so no extra query). A kind missing here bills nobody.

The owner is who pays for every click, order and action the offer leads to: the
merchant who created the offer (its product, group-buy, snap-up) or who accepted
it (an event's sponsor once the sponsorship is accepted), never one someone merely
named. ``payer`` applies the one security rule on top: that owner pays only while
they hold the merchant role.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g
from sqlalchemy import select

from .. import embeds
from ..accounts.models import User
from ..extensions import db
from ..markup import EmbedRef, placeholder


@dataclass(frozen=True)
class OfferKind:
    owner: Callable[[Any], int | None]  # the loaded widget object -> its owner's user id
    label: Callable[[Any], str]


def _promotion(name: str) -> OfferKind:
    """A promotion of one product: its shop owns it; labelled "<name>: <product>"."""
    return OfferKind(
        owner=lambda promotion: promotion.merchant.user_id,
        label=lambda promotion: f"{name}: {promotion.product.name}",
    )


KINDS: dict[str, OfferKind] = {
    # forum.shop_embed: a product card (``widgets.Card``) of the merchant's product.
    "product": OfferKind(
        owner=lambda card: card.product.merchant.user_id,
        label=lambda card: card.product.name,
    ),
    # forum.promotions: group-buys, snap-ups, Dutch auctions and guessing games belong to
    # the shop that runs them.
    "groupbuy": _promotion("Group-buy"),
    "snap": _promotion("Snap-up"),
    "auction": _promotion("Dutch auction"),
    "guess": _promotion("Guessing game"),
    # forum.events: the merchant whose sponsorship the organiser accepted (else nobody).
    "event": OfferKind(
        owner=lambda event: event.paying_sponsor_id, label=lambda event: event.title
    ),
}


def payer(kind: str, obj) -> int | None:
    """The one rule for who pays for an offer: its owner, if that user is a merchant.

    Every cost a merchant can be given (click attribution, CPS, every CPA on an
    offer) is resolved here, so an offer whose owner is not (or no longer) a
    merchant bills nobody.
    """
    offer = KINDS.get(kind)
    if offer is None or obj is None:
        return None
    owner = offer.owner(obj)
    if not owner:
        return None
    return int(owner) if _is_merchant(int(owner)) else None


def _is_merchant(user_id: int) -> bool:
    """Whether ``user_id`` holds the merchant role; asked once per user and app context."""
    known = g.setdefault("attribution_merchants", {})
    if user_id not in known:
        # Only the role column (a loaded User is used as is): the page needs no user row.
        loaded = db.session.identity_map.get(db.session.identity_key(User, user_id))
        role = (
            loaded.role
            if loaded is not None
            else db.session.execute(select(User.role).where(User.id == user_id)).scalar()
        )
        known[user_id] = role == "merchant"
    return known[user_id]


def offer_owner(ref: EmbedRef) -> int | None:
    """The merchant who pays for the offer ``ref`` (see ``payer``)."""
    if ref.kind not in KINDS:
        return None
    return payer(ref.kind, embeds.target(ref))


def offer_labels(refs: list[EmbedRef]) -> dict[EmbedRef, str]:
    """A readable name per offer: its own, or "product #42" when it is gone or unknown."""
    embeds.preload(placeholder(ref) for ref in refs)
    labels = {}
    for ref in refs:
        offer = KINDS.get(ref.kind)
        obj = embeds.target(ref) if offer else None
        labels[ref] = offer.label(obj) if offer and obj is not None else f"{ref.kind} #{ref.id}"
    return labels
