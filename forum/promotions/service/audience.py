"""Group-buy facts as SQL expressions for other features that compose them into ONE
statement over members (campaigns' segments)."""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    exists,
    func,
    literal,
    select,
    union_all,
)
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
    Product,
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


def promotions_of(
    merchant_user_id: int | None, limit: int = 200
) -> list[tuple[str, int, str, int]]:
    """(kind, id, label, merchant user id) of a merchant's promotions (every merchant's
    for None), newest first."""
    found: list[tuple[str, int, str, int, object]] = []
    for kind, model in _MODELS.items():
        statement = (
            select(model)
            .options(selectinload(model.product), selectinload(model.merchant))
            .order_by(model.id.desc())
            .limit(limit)
        )
        if merchant_user_id is not None:
            statement = statement.where(
                model.product_id.in_(shop.merchant_product_ids(merchant_user_id))
            )
        found += [
            (
                kind,
                row.id,
                f"{_LABELS[kind]}: {row.product.name}",
                row.merchant.user_id,
                row.created_at,
            )
            for row in db.session.scalars(statement)
        ]
    found.sort(key=lambda row: (row[4], row[1]), reverse=True)
    return [row[:4] for row in found[:limit]]


# --- the same for all of a merchant's promotions at once (insight's roll-up) -----------


def _mine(model, merchant_user_id: int):
    return model.product_id.in_(shop.merchant_product_ids(merchant_user_id))


def promotion_orders_of(merchant_user_id: int) -> CompoundSelect:
    """``SELECT kind, ident, order_id`` of the orders each of the merchant's promotions
    made, in one statement (``_orders`` for them all)."""
    parts = []
    for kind, model in _MODELS.items():
        ident = literal(kind).label("kind"), model.id.label("ident")
        if kind == "groupbuy":
            part = (
                select(*ident, TeamMember.order_id.label("order_id"))
                .join(Team, Team.group_buy_id == model.id)
                .join(TeamMember, TeamMember.team_id == Team.id)
                .where(TeamMember.order_id.is_not(None))
            )
        elif kind == "snap":
            part = select(*ident, SnapPurchase.order_id.label("order_id")).join(
                SnapPurchase, SnapPurchase.snap_id == model.id
            )
        elif kind == "auction":
            part = select(*ident, AuctionSale.order_id.label("order_id")).join(
                AuctionSale, AuctionSale.auction_id == model.id
            )
        else:
            part = (
                select(*ident, GuessWin.order_id.label("order_id"))
                .join(GuessWin, GuessWin.game_id == model.id)
                .where(GuessWin.order_id.is_not(None))
            )
        parts.append(part.where(_mine(model, merchant_user_id)))
    return union_all(*parts)


def promotion_discounts_of(merchant_user_id: int) -> dict[tuple[str, int], int]:
    """``(kind, id) -> discount`` of each of the merchant's promotions, as
    ``_discount_cents`` reckons it, in one aggregate per kind."""
    found: dict[tuple[str, int], int] = {}
    statements = {
        "snap": select(
            Snap.id,
            func.sum(SnapPurchase.quantity * (Product.price_cents - Snap.price_cents)),
        )
        .join(SnapPurchase, SnapPurchase.snap_id == Snap.id)
        .where(SnapPurchase.returned_at.is_(None)),
        "auction": select(Auction.id, func.sum(Product.price_cents - AuctionSale.price_cents))
        .join(AuctionSale, AuctionSale.auction_id == Auction.id)
        .where(AuctionSale.returned_at.is_(None)),
        "groupbuy": select(
            GroupBuy.id,
            func.sum(Product.price_cents - GroupBuy.group_price_cents),
        )
        .join(Team, Team.group_buy_id == GroupBuy.id)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.status == "succeeded", TeamMember.order_id.is_not(None)),
        "guess": select(
            GuessGame.id, func.sum(GuessGame.market_price_cents - GuessWin.amount_cents)
        )
        .join(GuessWin, GuessWin.game_id == GuessGame.id)
        .where(GuessWin.status == "paid"),
    }
    for kind, statement in statements.items():
        model = _MODELS[kind]
        statement = (
            statement.join(Product, Product.id == model.product_id)
            .where(_mine(model, merchant_user_id))
            .group_by(model.id)
        )
        for ident, cents in db.session.execute(statement):
            found[(kind, int(ident))] = max(0, int(cents or 0))
    return found


# --- live deals and who took part, for recommendations ---------------------------------

DEAL_KINDS = ("snap", "groupbuy", "auction", "guess")


def _deal(kind: str, model, *, audience=None, points=None):
    return select(
        literal(kind).label("kind"),
        model.id.label("deal_id"),
        model.product_id.label("product_id"),
        Product.name.label("name"),
        (audience if audience is not None else literal("all")).label("audience"),
        (points if points is not None else literal(0)).label("points"),
    ).join(Product, Product.id == model.product_id)


def live_deals_sql(at) -> CompoundSelect:
    """``SELECT kind, deal_id, product_id, name, audience, points`` of the deals a member
    could still take at ``at``: snap-ups started and with units left, group-buys, Dutch
    auctions (running or upcoming) with units left, guessing games still open; none
    ended (nor ended or closed early). ``points`` is what one guess costs (0 for the
    others); whether the product has stock left the caller asks the shop."""
    return union_all(
        _deal("snap", Snap, audience=Snap.audience).where(
            Snap.ended_at.is_(None),
            Snap.starts_at <= at,
            Snap.ends_at > at,
            Snap.stock_left > 0,
        ),
        _deal("groupbuy", GroupBuy, audience=GroupBuy.audience).where(
            GroupBuy.ended_at.is_(None), GroupBuy.ends_at > at
        ),
        _deal("auction", Auction).where(
            Auction.ended_at.is_(None), Auction.ends_at > at, Auction.units_left > 0
        ),
        _deal("guess", GuessGame, points=GuessGame.points_per_guess).where(
            GuessGame.closed_at.is_(None),
            GuessGame.settled_at.is_(None),
            GuessGame.ends_at > at,
        ),
    )


def deal_participation_sql(before=None) -> CompoundSelect:
    """``SELECT user_id, kind, deal_id, at``: members who joined a group-buy team, bought
    a snap-up or auction unit, or guessed, before ``before``."""
    parts = [
        (TeamMember.user_id, "groupbuy", Team.group_buy_id, TeamMember.joined_at),
        (SnapPurchase.user_id, "snap", SnapPurchase.snap_id, SnapPurchase.created_at),
        (AuctionSale.user_id, "auction", AuctionSale.auction_id, AuctionSale.created_at),
        (Guess.user_id, "guess", Guess.game_id, Guess.created_at),
    ]
    selects = []
    for user_id, kind, deal_id, at in parts:
        part = select(
            user_id.label("user_id"),
            literal(kind).label("kind"),
            deal_id.label("deal_id"),
            at.label("at"),
        )
        if kind == "groupbuy":
            part = part.join(Team, Team.id == TeamMember.team_id)
        selects.append(part if before is None else part.where(at < before))
    return union_all(*selects)
