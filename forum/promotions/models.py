"""Promotion tables: group-buys with their teams, and timed snap-ups.

Group-buy: a merchant's offer of one product at ``group_price_cents`` to teams of
``team_size``. A member starts a ``Team`` (their order is placed ``held``), others
join; ``Team.members`` counts real members and moves only in one conditional
UPDATE (``members < size AND status = 'forming' AND expires_at > now``), and
``TeamMember`` is unique per (team, user). The join that fills a team flips it to
``succeeded`` and releases every member's order in the same transaction; a team
past ``expires_at`` that did not fill has failed (its orders are voided by the
``promotions.settle_teams`` job, and reads treat it as failed before that).

Snap-up: limited ``stock`` of one product at ``price_cents`` between ``starts_at``
and ``ends_at``, at most ``per_user_limit`` units per buyer. ``Snap.stock_left``
and ``SnapBuyer.bought`` each move in one conditional statement inside the buying
transaction. Each order a snap-up made is a ``SnapPurchase``; when that order is
cancelled (unpaid past its window, or by hand) or refunded, its units go back to
both counters exactly once (``returned_at``). So at every moment::

    Snap.stock = stock_left + units in paid orders + units in pending orders
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..database import PrimaryKey, StampedNow, UTCDateTime
from ..extensions import db
from ..shop_embed.models import Merchant, Order, Product

TEAM_STATUSES = ("forming", "succeeded", "failed")


class GroupBuy(db.Model):
    __tablename__ = "promo_group_buys"
    __table_args__ = (
        CheckConstraint("team_size >= 2", name="team_size_at_least_two"),
        CheckConstraint("group_price_cents >= 0", name="group_price_not_negative"),
        CheckConstraint("team_window_minutes > 0", name="team_window_positive"),
        Index("ix_promo_group_buys_merchant", "merchant_id", "id"),
    )

    id: Mapped[PrimaryKey]
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    group_price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    team_size: Mapped[int]
    team_window_minutes: Mapped[int]
    # At expiry a team with at least one member is completed with virtual members.
    auto_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    # "all", or a tier and above ("shopper", "vip"): the checkout refuses anyone else.
    audience: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ended early by the merchant
    created_at: Mapped[StampedNow]
    # A ladder: [{"team_size": n, "price_cents": c}, ...] ascending sizes, falling prices
    # (service/ladders.py); team_size is then the largest step. None: one fixed price.
    steps: Mapped[list | None] = mapped_column(JSON(none_as_null=True))

    merchant: Mapped[Merchant] = relationship()
    product: Mapped[Product] = relationship()

    @property
    def first_step(self) -> int | None:
        """The team size a ladder team needs to succeed (None for a fixed-price group-buy)."""
        return int(self.steps[0]["team_size"]) if self.steps else None

    def is_open(self, at: datetime) -> bool:
        """New teams may start (and teams may be joined) only while this is true."""
        return self.ended_at is None and self.ends_at > at


class Team(db.Model):
    __tablename__ = "promo_teams"
    __table_args__ = (
        # Second line of defence: the conditional UPDATE never lets a team overfill.
        CheckConstraint("members >= 0 AND members <= size", name="members_within_size"),
        CheckConstraint("virtual_members >= 0", name="virtual_members_not_negative"),
        Index("ix_promo_teams_group_buy_status", "group_buy_id", "status", "expires_at"),
        Index("ix_promo_teams_due", "status", "expires_at"),
    )

    id: Mapped[PrimaryKey]
    group_buy_id: Mapped[int] = mapped_column(ForeignKey("promo_group_buys.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    size: Mapped[int]
    members: Mapped[int] = mapped_column(default=0)
    virtual_members: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="forming")
    expires_at: Mapped[datetime]
    created_at: Mapped[StampedNow]
    settled_at: Mapped[datetime | None]

    group_buy: Mapped[GroupBuy] = relationship()
    leader: Mapped[User] = relationship()
    roster: Mapped[list["TeamMember"]] = relationship(
        order_by="TeamMember.id", viewonly=True, back_populates="team"
    )

    def status_at(self, at: datetime) -> str:
        """What the team is at ``at``, whether or not the settling job has run yet."""
        if self.status == "forming" and self.expires_at <= at:
            auto = self.group_buy.auto_complete and self.members >= 1
            ladder = self.group_buy.first_step
            reached = ladder is not None and self.members >= ladder
            return "succeeded" if auto or reached else "failed"
        return self.status

    @property
    def filled(self) -> int:
        return self.members + self.virtual_members


class TeamMember(db.Model):
    __tablename__ = "promo_team_members"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", name="uq_promo_team_members_team_user"),
        Index("ix_promo_team_members_user", "user_id", "id"),
    )

    id: Mapped[PrimaryKey]
    team_id: Mapped[int] = mapped_column(ForeignKey("promo_teams.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("shop_orders.id"), unique=True)
    joined_at: Mapped[StampedNow]

    team: Mapped[Team] = relationship(back_populates="roster")
    user: Mapped[User] = relationship()
    order: Mapped[Order | None] = relationship()


class Snap(db.Model):
    __tablename__ = "promo_snaps"
    __table_args__ = (
        # Second line of defence: the conditional UPDATE never oversells.
        CheckConstraint("stock_left >= 0 AND stock_left <= stock", name="stock_left_in_range"),
        CheckConstraint("per_user_limit >= 1", name="per_user_limit_positive"),
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_promo_snaps_merchant", "merchant_id", "id"),
    )

    id: Mapped[PrimaryKey]
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int]
    stock_left: Mapped[int]
    per_user_limit: Mapped[int]
    # "all", or a tier and above ("shopper", "vip"): the checkout refuses anyone else.
    audience: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ended early by the merchant
    created_at: Mapped[StampedNow]

    merchant: Mapped[Merchant] = relationship()
    product: Mapped[Product] = relationship()

    def closes_at(self) -> datetime:
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at


class SnapBuyer(db.Model):
    """Units one user holds of one snap-up (pending or paid): the per-user limit's guard."""

    __tablename__ = "promo_snap_buyers"
    __table_args__ = (CheckConstraint("bought >= 0", name="bought_not_negative"),)

    snap_id: Mapped[int] = mapped_column(ForeignKey("promo_snaps.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    bought: Mapped[int] = mapped_column(default=0)


class SnapPurchase(db.Model):
    """One order a snap-up made; ``returned_at`` once its units went back to the counters."""

    __tablename__ = "promo_snap_purchases"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_promo_snap_purchases_snap_user", "snap_id", "user_id"),
    )

    id: Mapped[PrimaryKey]
    snap_id: Mapped[int] = mapped_column(ForeignKey("promo_snaps.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), unique=True)
    quantity: Mapped[int]
    created_at: Mapped[StampedNow]
    returned_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship()


# --- Dutch auctions, guessing games, reminders (issue 16) ----------------------------


class Auction(db.Model):
    """A Dutch auction: ``units`` of a product whose price falls on the server's clock.

    The price at ``t`` is a pure function of the row (``service.auctions.price_at``):
    ``start_price_cents`` until the first drop, ``drop_cents`` less every
    ``drop_every_seconds``, never below ``floor_price_cents``; the floor holds for one
    last interval and the auction ends at ``ends_at`` (or when the merchant ends it).
    ``units_left`` moves only in one conditional UPDATE (``units_left >= 1`` and
    running); a lapsed or refunded sale gives its unit back exactly once (``returned_at``):

        units = units_left + units in paid sales + units in pending sales
    """

    __tablename__ = "promo_auctions"
    __table_args__ = (
        CheckConstraint("units_left >= 0 AND units_left <= units", name="units_left_in_range"),
        CheckConstraint("floor_price_cents >= 0", name="floor_not_negative"),
        CheckConstraint("start_price_cents > floor_price_cents", name="start_above_floor"),
        CheckConstraint("drop_cents > 0", name="drop_positive"),
        CheckConstraint("drop_every_seconds > 0", name="drop_interval_positive"),
        CheckConstraint("per_user_limit >= 1", name="per_user_limit_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_promo_auctions_merchant", "merchant_id", "id"),
    )

    id: Mapped[PrimaryKey]
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    units: Mapped[int]
    units_left: Mapped[int]
    start_price_cents: Mapped[int]
    floor_price_cents: Mapped[int]
    drop_cents: Mapped[int]
    drop_every_seconds: Mapped[int]
    per_user_limit: Mapped[int]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ended early by the merchant
    result_posted_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]

    merchant: Mapped[Merchant] = relationship()
    product: Mapped[Product] = relationship()

    def closes_at(self) -> datetime:
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at


class AuctionSale(db.Model):
    """One unit taken at ``price_cents`` (the price at the moment the server took it)."""

    __tablename__ = "promo_auction_sales"
    __table_args__ = (
        CheckConstraint("price_cents >= 0", name="price_not_negative"),
        Index("ix_promo_auction_sales_auction_user", "auction_id", "user_id"),
    )

    id: Mapped[PrimaryKey]
    auction_id: Mapped[int] = mapped_column(ForeignKey("promo_auctions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), unique=True)
    price_cents: Mapped[int]
    created_at: Mapped[StampedNow]
    returned_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship()


class GuessGame(db.Model):
    """Lowest-unique-price guessing: members guess in cents, paying points per guess.

    At the close the lowest amount guessed by exactly one member wins the right to buy
    the product at that amount (``service.guessing.ranking`` computes it in SQL).
    ``guesses_count`` moves in SQL with each accepted guess; guesses stay private until
    the close.
    """

    __tablename__ = "promo_guess_games"
    __table_args__ = (
        CheckConstraint("market_price_cents > 0", name="market_price_positive"),
        CheckConstraint("points_per_guess >= 0", name="points_not_negative"),
        CheckConstraint("max_guesses_per_user >= 1", name="max_guesses_positive"),
        Index("ix_promo_guess_games_merchant", "merchant_id", "id"),
        Index("ix_promo_guess_games_due", "settled_at", "ends_at"),
    )

    id: Mapped[PrimaryKey]
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    market_price_cents: Mapped[int]
    points_per_guess: Mapped[int]
    max_guesses_per_user: Mapped[int]
    ends_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # closed early
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # winner picked, refunds done
    result_posted_at: Mapped[datetime | None]
    guesses_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[StampedNow]

    merchant: Mapped[Merchant] = relationship()
    product: Mapped[Product] = relationship()

    def closes_at(self) -> datetime:
        return min(self.ends_at, self.closed_at) if self.closed_at else self.ends_at


class GuessPlayer(db.Model):
    """Guesses one member made in one game: the per-member limit's guard (one upsert)."""

    __tablename__ = "promo_guess_players"
    __table_args__ = (CheckConstraint("guesses >= 0", name="guesses_not_negative"),)

    game_id: Mapped[int] = mapped_column(ForeignKey("promo_guess_games.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    guesses: Mapped[int] = mapped_column(default=0)


class Guess(db.Model):
    __tablename__ = "promo_guesses"
    __table_args__ = (
        UniqueConstraint("game_id", "user_id", "amount_cents", name="uq_promo_guesses_once"),
        CheckConstraint("amount_cents >= 1", name="amount_positive"),
        Index("ix_promo_guesses_game_amount", "game_id", "amount_cents"),
    )

    id: Mapped[PrimaryKey]
    game_id: Mapped[int] = mapped_column(ForeignKey("promo_guess_games.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_cents: Mapped[int]
    points: Mapped[int] = mapped_column(default=0)  # what it cost
    created_at: Mapped[StampedNow]


class GuessWin(db.Model):
    """A winner in turn: ``rank`` 1 is the lowest unique guess; a winner who does not pay
    within the window (order cancelled) lapses and the next lowest unique guess wins."""

    __tablename__ = "promo_guess_wins"
    __table_args__ = (
        UniqueConstraint("game_id", "rank", name="uq_promo_guess_wins_rank"),
        Index("ix_promo_guess_wins_order", "order_id"),
    )

    id: Mapped[PrimaryKey]
    game_id: Mapped[int] = mapped_column(ForeignKey("promo_guess_games.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_cents: Mapped[int]
    rank: Mapped[int]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("shop_orders.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|paid|lapsed
    created_at: Mapped[StampedNow]

    user: Mapped[User] = relationship()


class OfferPlacement(db.Model):
    """Where an auction, game or group-buy was embedded (a thread or a chat room), so its
    result can be posted back there. Written when the post or message is made."""

    __tablename__ = "promo_offer_placements"
    __table_args__ = (
        UniqueConstraint("kind", "offer_id", "place", name="uq_promo_offer_placements"),
    )

    id: Mapped[PrimaryKey]
    kind: Mapped[str] = mapped_column(String(16))  # auction | guess
    offer_id: Mapped[int]
    place: Mapped[str] = mapped_column(String(96))  # "thread:42" | "room:general"
    created_at: Mapped[StampedNow]


class Reminder(db.Model):
    """ "Remind me" on an upcoming snap-up, auction or game: a notification at ``remind_at``."""

    __tablename__ = "promo_reminders"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "offer_id", name="uq_promo_reminders_once"),
        Index("ix_promo_reminders_due", "sent_at", "remind_at"),
    )

    id: Mapped[PrimaryKey]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # snap | auction | guess
    offer_id: Mapped[int]
    remind_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[StampedNow]
