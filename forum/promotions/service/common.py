"""Limits, input checks, lookups and listener hooks shared by group-buys and snap-ups."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ... import signals, widget_shells
from ...clock import now
from ...errors import Forbidden, NotFound, ServiceError, ValidationFailed
from ...extensions import db
from ...idempotency import check_key as check_idempotency_key  # noqa: F401  (used by the feature)
from ...idempotency import key_reused  # noqa: F401  (used by the feature)
from ...money import viewer_locale
from ...permissions import check_not_suspended as check_can_act  # noqa: F401  (used by the feature)
from ...shop_embed import service as shop
from ...times import parse_time
from ..models import Auction, GroupBuy, GuessGame, Snap

Promotion = GroupBuy | Snap

MIN_TEAM_SIZE, MAX_TEAM_SIZE = 2, 10
MIN_TEAM_WINDOW, MAX_TEAM_WINDOW = 5, 7 * 24 * 60  # minutes
MAX_CAMPAIGN = timedelta(days=90)
MAX_SNAP_STOCK = 100_000
MAX_PER_USER = 99
# Held group-buy orders of auto-completing campaigns keep their stock this long
# past the team's deadline, so the settling job can still confirm them.
AUTO_COMPLETE_GRACE = timedelta(minutes=15)


def read_time(field: str, value, errors: dict) -> datetime | None:
    """``parse_time``, or None with its message in ``errors``, so every bad field shows at once."""
    try:
        return parse_time(field, value)
    except ValidationFailed as err:
        errors.update(err.fields)
        return None


def whole(value, field: str, low: int, high: int, message: str, errors: dict) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.setdefault(field, []).append(message)
        return None
    return value


def own_product(actor, product_id, errors: dict):
    """The caller's shop and the buyable product it names (None, with a field error, otherwise)."""
    merchant = shop.require_merchant(actor)
    product = shop.merchant_product(merchant, product_id)
    if product is None:
        errors.setdefault("product_id", []).append("Choose one of your products that is on sale.")
    return merchant, product


def promo_price(value, field: str, product, errors: dict) -> int | None:
    """A promotion price: whole cents, below the product's own price."""
    price = whole(value, field, 0, shop.MAX_PRICE_CENTS, "Use a price in whole cents.", errors)
    if price is not None and product is not None and price >= product.price_cents:
        errors.setdefault(field, []).append(
            f"A promotion price must be below the product's price ({product.price_cents} cents)."
        )
        return None
    return price


def check_audience(audience, errors: dict) -> None:
    """Who may buy the offer: "all", "shopper" or "vip" (the checkout enforces it)."""
    if audience not in shop.AUDIENCES:
        errors.setdefault("audience", []).append(f"Choose one of {', '.join(shop.AUDIENCES)}.")


def check_fields(errors: dict) -> None:
    """Raise ValidationFailed with every field's problems, if there are any."""
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", fields=errors)


def check_units(units, field: str, per_user_limit, product, errors: dict) -> tuple:
    """The units a snap-up or auction offers (1 to MAX_SNAP_STOCK, on the shelf now: the
    product's units are still taken per order, so it never sells what the shop does not
    have) and the per-member limit (1 to MAX_PER_USER, at most the units); returns
    (units, limit), None where refused (the reason added to ``errors``)."""
    count = whole(units, field, 1, MAX_SNAP_STOCK, f"Offer 1 to {MAX_SNAP_STOCK:,} units.", errors)
    limit = whole(
        per_user_limit,
        "per_user_limit",
        1,
        MAX_PER_USER,
        f"Allow 1 to {MAX_PER_USER} units per member.",
        errors,
    )
    if count is not None and limit is not None and limit > count:
        errors.setdefault("per_user_limit", []).append(f"The limit cannot exceed the {field}.")
    if count is not None and product is not None:
        shelf = shop.available_stock([product.id]).get(product.id, 0)
        if count > shelf:
            errors.setdefault(field, []).append(f"Only {shelf} units of the product are in stock.")
    return count, limit


def add_promotion(kind: type[Promotion], merchant, product, at, **terms):
    """Insert a checked group-buy or snap-up of ``product`` in its currency; flushed (has an id)."""
    promotion = kind(
        merchant_id=merchant.id,
        product_id=product.id,
        currency=product.currency,
        created_at=at,
        **terms,
    )
    db.session.add(promotion)
    db.session.flush()
    return promotion


def create_offer(actor, model, product_id, check, terms: dict):
    """A new ``model`` offer of one of ``actor``'s products, its columns from
    ``check(product, at, errors, **terms)`` (create's and edit's rules of that kind).
    Raises Forbidden (not a merchant) or ValidationFailed (every field's problem at once)."""
    errors: dict[str, list[str]] = {}
    merchant, product = own_product(actor, product_id, errors)
    at = now()
    checked = check(product, at, errors, **terms)
    check_fields(errors)
    return add_promotion(model, merchant, product, at, **checked)


def get_promotion(kind: type[Promotion], promotion_id, missing: str):
    """The group-buy or snap-up with its product; NotFound(``missing``) for any other id."""
    promotion = (
        db.session.get(kind, promotion_id, options=[joinedload(kind.product)])
        if isinstance(promotion_id, int)
        else None
    )
    if promotion is None:
        raise NotFound(missing)
    return promotion


def promotions_of(kind: type[Promotion], merchant_id: int) -> list:
    """A shop's group-buys or snap-ups, newest first, ended ones included."""
    return list(
        db.session.scalars(
            select(kind)
            .options(joinedload(kind.product))
            .where(kind.merchant_id == merchant_id)
            .order_by(kind.id.desc())
        )
    )


def promotions_on_offer(kind: type[Promotion], order_by, limit: int) -> list:
    """Group-buys or snap-ups not ended yet whose product is still listed, in ``order_by`` order."""
    at = now()
    return list(
        db.session.scalars(
            select(kind)
            # The product's merchant is the promotion's own: loaded once, found by identity.
            .options(joinedload(kind.product), joinedload(kind.merchant))
            .where(
                kind.ended_at.is_(None),
                kind.ends_at > at,
                kind.product_id.in_(shop.listed_product_ids()),
            )
            .order_by(order_by)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class OfferKind:
    """One kind of offer, said once: its table, its ``kind`` (the name of its widget and
    of its live room), its public page (endpoint and id argument) and the refusal for an
    id that names none. Each kind's module gives these out as ``get_<kind>``,
    ``<kind>s_of``, ``<kind>_url`` and ``<kind>_room``."""

    model: Any
    kind: str
    page: str
    arg: str
    missing: str

    def get(self, offer_id: Any) -> Any:
        """The offer with its product; NotFound(``missing``) for any other id."""
        return get_promotion(self.model, offer_id, self.missing)

    def of(self, merchant_id: int) -> list:
        """A shop's offers of this kind, newest first, ended ones included."""
        return promotions_of(self.model, merchant_id)

    def url(self, offer: Any) -> str:
        return url_for(self.page, **{self.arg: offer.id})

    def room(self, offer_id: int) -> str:
        """The live room its widgets watch."""
        return f"offer:{self.kind}:{offer_id}"


# The kinds of offer this package runs.
GROUP_BUYS = OfferKind(
    GroupBuy, "groupbuy", "promotions.group_buy", "group_buy_id", "No such group-buy."
)
SNAPS = OfferKind(Snap, "snap", "promotions.snap", "snap_id", "No such snap-up.")
AUCTIONS = OfferKind(Auction, "auction", "promotions.auction", "auction_id", "No such auction.")
GAMES = OfferKind(GuessGame, "guess", "promotions.guess_game", "game_id", "No such guessing game.")


def order_by_key(user, key: str):
    return shop.order_by_key(user, key)


def one_by_one(due: Iterable[Any], step: Callable[[Any], Any]) -> int:
    """A sweep: end the transaction that read ``due``, then ``step(item)`` for each item in
    its own transaction (a ServiceError rolls back that one and the sweep goes on).
    Returns how many steps did something (returned true)."""
    db.session.commit()
    done = 0
    for item in due:
        try:
            if step(item):
                done += 1
            db.session.commit()
        except ServiceError:
            db.session.rollback()
    return done


def stamp_once(column, row_id: int, at: datetime) -> bool:
    """Set the time ``column`` (``Model.ended_at``, ``settled_at``...) of row ``row_id`` to
    ``at`` unless it is set already: one conditional UPDATE, so of concurrent callers
    exactly one gets True and does what follows."""
    model = column.class_
    return bool(
        db.session.execute(
            update(model)
            .where(model.id == row_id, column.is_(None))
            .values({column: at})
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def end_promotion(actor, model, promotion, at: datetime) -> bool:
    """End ``promotion`` now (its shop or an admin: Forbidden otherwise): ``ended_at`` set
    once, the row refreshed; True when this call ended it."""
    check_offer_owner(actor, promotion.merchant_id)
    moved = stamp_once(model.ended_at, promotion.id, at)
    db.session.refresh(promotion)
    return moved


def check_offer_owner(actor, merchant_id: int) -> None:
    """Merchant actions on a promotion: its shop or an admin."""
    if shop.is_admin(actor):
        return
    merchant = shop.merchant_of(actor) if shop.is_merchant(actor) else None
    if merchant is None or merchant.id != merchant_id:
        raise Forbidden("Only the shop that runs this promotion can do that.")


# --- what other features hear (forum.signals) ---------------------------------------
# Attribution (and anything else) connects to these without this package knowing it.
# Sent inside the joining/settling transaction; a receiver's ServiceError refuses it.


def _tell_joined(team, member, order) -> None:
    signals.team_joined.send(team, member=member, order=order)


def _tell_settled(team, status: str) -> None:
    signals.team_settled.send(team, status=status)


def offer_state(offer) -> tuple:
    """What every promotion widget's head reads, as a shell key part (``widget_shells``):
    the offer's, its product's and its merchant's rows, and the locale of its money."""
    product = offer.product
    return (
        type(offer).__name__,
        widget_shells.row_state(offer),
        widget_shells.row_state(product),
        widget_shells.row_state(product.merchant),
        str(viewer_locale()),
    )
