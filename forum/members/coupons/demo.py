"""Demo coupons: a first-order welcome, the "second purchase" coupon for members with
exactly one completed order, a shop coupon, a VIP one and a withdrawn one; some in use."""

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from ...clock import now
from ...errors import ServiceError
from ...extensions import db
from ...shop_embed import service as shop
from ...shop_embed.models import Order, Product
from . import service

log = logging.getLogger(__name__)

COUPONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    # (owner, code, fields)
    ("admin", "WELCOME10", dict(kind="percent", value=1000, first_order_only=True, max_uses=500)),
    (
        "admin",
        "COMEBACK15",
        dict(kind="percent", value=1500, completed_orders=1, max_uses=200, ends_days=60),
    ),
    ("admin", "VIP20", dict(kind="percent", value=2000, audience="vip", per_user_limit=3)),
    ("acme_store", "ACME5", dict(kind="fixed", value=500, min_subtotal_cents=3000, max_uses=50)),
    ("admin", "SUMMER25", dict(kind="percent", value=2500, max_uses=100, withdrawn=True)),
)
ADDRESS = {
    "line1": "12 Market Street",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


def build(ctx) -> None:
    owners = {"admin": ctx.admin, **{m.username: m for m in ctx.merchants}}
    made = {}
    for owner_name, code, fields in COUPONS:
        owner = owners.get(owner_name)
        if owner is None:
            continue
        fields = dict(fields)
        ends_days = fields.pop("ends_days", None)
        withdrawn = fields.pop("withdrawn", False)
        coupon = service.create_coupon(
            owner,
            code=code,
            ends_at=now() + timedelta(days=ends_days) if ends_days else None,
            **fields,
        )
        if withdrawn:
            coupon.active = False
        made[code] = coupon
    db.session.flush()
    used = _uses(ctx)
    ctx.summary.append(
        f"Coupons: {len(made)} ({', '.join(made)}), {used} orders used one; COMEBACK15 is "
        "for members with exactly one completed order (admin: /admin/coupons)."
    )


def _completed(user) -> int:
    return db.session.scalar(
        select(func.count()).where(Order.buyer_id == user.id, Order.status == "completed")
    )


def _uses(ctx) -> int:
    """Orders with coupons: second purchases, first orders, one shop coupon."""
    products = list(
        db.session.scalars(
            select(Product).where(Product.archived_at.is_(None)).order_by(Product.id)
        )
    )
    if not products:
        return 0
    acme = [p for p in products if p.merchant.user.username == "acme_store"] or products
    used = 0
    plans = []
    for member in ctx.members:
        completed = _completed(member)
        if completed == 1:
            plans.append((member, "COMEBACK15", acme[0], 2))
    newcomers = [
        m
        for m in ctx.members
        if not db.session.scalar(select(func.count()).where(Order.buyer_id == m.id))
    ]
    plans += [
        (m, "WELCOME10", products[(n * 3) % len(products)], 1) for n, m in enumerate(newcomers[:3])
    ]
    if len(newcomers) > 3:
        plans.append((newcomers[3], "ACME5", acme[-1], 3))
    for member, code, product, quantity in plans:
        try:
            with db.session.begin_nested():
                order, _ = shop.place_order(
                    member,
                    [(product.id, quantity)],
                    shipping_address={**ADDRESS, "name": member.username.title()},
                    choices={"coupon_code": code},
                )
                shop.pay(member, order, "sandbox")
            used += 1
        except ServiceError as exc:  # a rule refused this plan (stock, minimum): skip it
            log.info("demo: %s could not use %s: %s", member.username, code, exc)
    return used
