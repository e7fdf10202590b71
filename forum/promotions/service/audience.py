"""Group-buy facts as SQL expressions for other features that compose them into ONE
statement over members (campaigns' segments)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...shop_embed import service as shop
from ..models import (
    Auction,
    AuctionSale,
    GroupBuy,
    Guess,
    GuessGame,
    GuessWin,
    Snap,
    SnapPurchase,
    Team,
    TeamMember,
)


def in_failed_team_sql(user_id) -> ColumnElement[bool]:
    """The member (a column of the enclosing query) was in a group-buy team that failed."""
    return exists(
        select(TeamMember.id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id == user_id, Team.status == "failed")
        .correlate_except(TeamMember, Team)
    )


# --- facts for insight's promotion evaluation (never naming these tables outside) -------

_MODELS = {"groupbuy": GroupBuy, "snap": Snap, "auction": Auction, "guess": GuessGame}
_LABELS = {
    "groupbuy": "Group-buy",
    "snap": "Snap-up",
    "auction": "Dutch auction",
    "guess": "Guessing game",
}
KINDS = tuple(_MODELS)


def _participants(kind: str, promotion_id: int) -> Select:
    """``SELECT user_id, at`` of each act of taking part (joined, bought, guessed)."""
    if kind == "groupbuy":
        return (
            select(TeamMember.user_id.label("user_id"), TeamMember.joined_at.label("at"))
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.group_buy_id == promotion_id)
        )
    if kind == "snap":
        return select(
            SnapPurchase.user_id.label("user_id"), SnapPurchase.created_at.label("at")
        ).where(SnapPurchase.snap_id == promotion_id)
    if kind == "auction":
        return select(
            AuctionSale.user_id.label("user_id"), AuctionSale.created_at.label("at")
        ).where(AuctionSale.auction_id == promotion_id)
    return select(Guess.user_id.label("user_id"), Guess.created_at.label("at")).where(
        Guess.game_id == promotion_id
    )


def _orders(kind: str, promotion_id: int) -> Select:
    """``SELECT order_id`` of the orders the promotion made (insight costs their perks and
    points): team members' orders, units bought, wins paid for."""
    if kind == "groupbuy":
        return (
            select(TeamMember.order_id.label("order_id"))
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.group_buy_id == promotion_id, TeamMember.order_id.is_not(None))
        )
    if kind == "snap":
        return select(SnapPurchase.order_id.label("order_id")).where(
            SnapPurchase.snap_id == promotion_id
        )
    if kind == "auction":
        return select(AuctionSale.order_id.label("order_id")).where(
            AuctionSale.auction_id == promotion_id
        )
    return select(GuessWin.order_id.label("order_id")).where(
        GuessWin.game_id == promotion_id, GuessWin.order_id.is_not(None)
    )


def _discount_cents(kind: str, promotion) -> int:
    """What the promotion gave away against the product's list price, in one aggregate:
    units sold and not returned (snap-ups, auctions), members of succeeded teams
    (group-buys), paid wins below the market price (guessing games)."""
    list_price = promotion.product.price_cents
    if kind == "snap":
        statement = select(
            func.sum(SnapPurchase.quantity * (list_price - promotion.price_cents))
        ).where(SnapPurchase.snap_id == promotion.id, SnapPurchase.returned_at.is_(None))
    elif kind == "auction":
        statement = select(func.sum(list_price - AuctionSale.price_cents)).where(
            AuctionSale.auction_id == promotion.id, AuctionSale.returned_at.is_(None)
        )
    elif kind == "groupbuy":
        statement = (
            select(func.count(TeamMember.id) * (list_price - promotion.group_price_cents))
            .join(Team, Team.id == TeamMember.team_id)
            .where(
                Team.group_buy_id == promotion.id,
                Team.status == "succeeded",
                TeamMember.order_id.is_not(None),
            )
        )
    else:
        statement = select(func.sum(promotion.market_price_cents - GuessWin.amount_cents)).where(
            GuessWin.game_id == promotion.id, GuessWin.status == "paid"
        )
    return max(0, int(db.session.scalar(statement) or 0))


def promotion_facts(kind: str, promotion_id: int) -> dict | None:
    """What insight's evaluation needs of one promotion: its owner (merchant user id),
    label, start, the participants as a subquery and the discount given; None if unknown."""
    model = _MODELS.get(kind)
    promotion = db.session.get(model, promotion_id) if model is not None else None
    if promotion is None:
        return None
    return {
        "merchant_user_id": promotion.merchant.user_id,
        "label": f"{_LABELS[kind]}: {promotion.product.name}",
        "starts_at": getattr(promotion, "starts_at", None) or promotion.created_at,
        "participants": _participants(kind, promotion.id),
        "discount_cents": _discount_cents(kind, promotion),
        "orders": _orders(kind, promotion.id),
    }


def promotions_of(merchant_user_id: int | None, limit: int = 200) -> list[tuple[str, int, str]]:
    """(kind, id, label) of a merchant's promotions (every merchant's for None), newest first."""
    found: list[tuple[str, int, str, object]] = []
    for kind, model in _MODELS.items():
        statement = (
            select(model)
            .options(selectinload(model.product))
            .order_by(model.id.desc())
            .limit(limit)
        )
        if merchant_user_id is not None:
            statement = statement.where(
                model.product_id.in_(shop.merchant_product_ids(merchant_user_id))
            )
        found += [
            (kind, row.id, f"{_LABELS[kind]}: {row.product.name}", row.created_at)
            for row in db.session.scalars(statement)
        ]
    found.sort(key=lambda row: (row[3], row[1]), reverse=True)
    return [(kind, ident, label) for kind, ident, label, _ in found[:limit]]
