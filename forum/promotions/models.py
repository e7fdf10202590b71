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
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..clock import now
from ..database import UTCDateTime
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

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    group_price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    team_size: Mapped[int] = mapped_column(Integer)
    team_window_minutes: Mapped[int] = mapped_column(Integer)
    # At expiry a team with at least one member is completed with virtual members.
    auto_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    # "all", or a tier and above ("shopper", "vip"): the checkout refuses anyone else.
    audience: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ended early by the merchant
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    merchant: Mapped[Merchant] = relationship()
    product: Mapped[Product] = relationship()

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

    id: Mapped[int] = mapped_column(primary_key=True)
    group_buy_id: Mapped[int] = mapped_column(ForeignKey("promo_group_buys.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    size: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer, default=0)
    virtual_members: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="forming")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group_buy: Mapped[GroupBuy] = relationship()
    leader: Mapped[User] = relationship()
    roster: Mapped[list["TeamMember"]] = relationship(
        order_by="TeamMember.id", viewonly=True, back_populates="team"
    )

    def status_at(self, at: datetime) -> str:
        """What the team is at ``at``, whether or not the settling job has run yet."""
        if self.status == "forming" and self.expires_at <= at:
            auto = self.group_buy.auto_complete and self.members >= 1
            return "succeeded" if auto else "failed"
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

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("promo_teams.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("shop_orders.id"), unique=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

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

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("shop_merchants.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("shop_products.id"), index=True)
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer)
    stock_left: Mapped[int] = mapped_column(Integer)
    per_user_limit: Mapped[int] = mapped_column(Integer)
    # "all", or a tier and above ("shopper", "vip"): the checkout refuses anyone else.
    audience: Mapped[str] = mapped_column(String(16), default="all", server_default="all")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ended early by the merchant
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

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
    bought: Mapped[int] = mapped_column(Integer, default=0)


class SnapPurchase(db.Model):
    """One order a snap-up made; ``returned_at`` once its units went back to the counters."""

    __tablename__ = "promo_snap_purchases"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_promo_snap_purchases_snap_user", "snap_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    snap_id: Mapped[int] = mapped_column(ForeignKey("promo_snaps.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("shop_orders.id"), unique=True)
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
