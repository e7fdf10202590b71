"""What other features ask of coupons: insight's evaluation and roll-up, campaigns' lists."""

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ....extensions import db
from ....shop_embed import service as shop
from ..models import Coupon, CouponRedemption
from .common import normalise_code


def coupon_facts(coupon_id: int) -> dict | None:
    """What insight's evaluation needs of one coupon: its owner (the shop's merchant user
    id, None for a site coupon), code, start, its live uses as ``SELECT user_id, at``
    and the discount they gave; None if unknown."""
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None:
        return None
    live = (CouponRedemption.coupon_id == coupon.id, CouponRedemption.state == "active")
    discount = db.session.scalar(
        select(func.coalesce(func.sum(CouponRedemption.discount_cents), 0)).where(*live)
    )
    return {
        "merchant_user_id": coupon.merchant.user_id if coupon.merchant is not None else None,
        "code": coupon.code,
        "label": f"Coupon: {coupon.code}",
        "starts_at": coupon.starts_at or coupon.created_at,
        "participants": select(
            CouponRedemption.user_id.label("user_id"), CouponRedemption.created_at.label("at")
        ).where(*live),
        "discount_cents": int(discount or 0),
        # Every use, released ones too: the ledgers net their own give-backs.
        "orders": select(CouponRedemption.order_id.label("order_id")).where(
            CouponRedemption.coupon_id == coupon.id
        ),
    }


def coupon_discount_by(code: str, user_ids) -> int:
    """The discount the live uses of ``code`` by the members in ``user_ids`` gave."""
    clean = normalise_code(code)
    if not clean:
        return 0
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(CouponRedemption.discount_cents), 0))
            .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
            .where(
                Coupon.code == clean,
                CouponRedemption.state == "active",
                CouponRedemption.user_id.in_(user_ids),
            )
        )
        or 0
    )


def coupon_orders_by(code: str, user_ids) -> Select:
    """``SELECT order_id`` of the orders the members in ``user_ids`` used ``code`` on (a
    campaign's coupon, for insight's costs); no rows for an unknown code."""
    return (
        select(CouponRedemption.order_id.label("order_id"))
        .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
        .where(Coupon.code == normalise_code(code), CouponRedemption.user_id.in_(user_ids))
    )


def coupons_of(merchant_user_id: int | None, limit: int = 200) -> list[tuple[int, str, int | None]]:
    """(id, code, merchant user id: None for a site coupon) of a merchant's coupons
    (every coupon for None), newest first."""
    statement = (
        select(Coupon)
        .options(selectinload(Coupon.merchant))
        .order_by(Coupon.id.desc())
        .limit(limit)
    )
    if merchant_user_id is not None:
        statement = statement.where(Coupon.merchant_id.in_(shop.merchant_ids_of(merchant_user_id)))
    return [
        (coupon.id, coupon.code, coupon.merchant.user_id if coupon.merchant else None)
        for coupon in db.session.scalars(statement)
    ]
