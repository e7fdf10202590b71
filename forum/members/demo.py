"""Demo data for member operations: members across all three tiers with their histories,
credit and points spent at checkout, a partial refund, a manual VIP card, a VIP-only snap-up.

Orders are replayed at past dates (``clock.replaying``), so tier moves spread over weeks,
some rebates are still pending and others are store credit already.
"""

from datetime import timedelta

from ..clock import now, replaying
from ..shop_embed import service as shop
from . import service

ADDRESS = {
    "line1": "12 Market Street",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


def _order(buyer, product, when, *, complete=True, **choices):
    address = {**ADDRESS, "name": buyer.username.title()}
    with replaying(when):
        order = shop.checkout(
            buyer, [(product.id, 1)], address=address, provider="sandbox", choices=choices or None
        )
    with replaying(when + timedelta(days=1)):
        shop.ship(order.merchant.user, order, tracking=f"PLZ{order.id:06d}")
    if complete:
        with replaying(when + timedelta(days=3)):
            shop.complete(buyer, order)
    return order


def build(ctx) -> None:
    at = now()
    seller = ctx.merchants[0]
    merchant = shop.merchant_of(seller)
    stock = shop.available_stock([p.id for p in shop.merchant_products(merchant)])
    products = [
        p for p in shop.merchant_products(merchant, only_buyable=True) if stock.get(p.id, 0) >= 8
    ]
    products.sort(key=lambda p: -p.price_cents)
    if len(products) < 2:
        return
    big, small = products[0], products[-1]
    # Low-priced goods stay out of VIP free freight.
    shop.update_product(seller, small, free_shipping_excluded=True)
    members = ctx.members
    # Under the shop's free-shipping threshold, so VIP free freight is a perk that costs.
    cheap = [big]
    for other in ctx.merchants[1:]:
        shop_of = shop.merchant_of(other)
        threshold = shop_of.free_shipping_threshold_cents or 10**9
        goods = shop.merchant_products(shop_of, only_buyable=True)
        left = shop.available_stock([p.id for p in goods])
        cheap = [p for p in goods if p.price_cents < threshold and left.get(p.id, 0) >= 5] + cheap
    vips, shoppers = members[:3], members[3:7]
    for n, buyer in enumerate(vips):
        start = at - timedelta(weeks=10 - 3 * n)
        for k in range(3):
            _order(buyer, products[k % len(products)], start + timedelta(days=7 * k))
        # A VIP order after the move: free freight and a rebate (pending or released).
        _order(buyer, cheap[0], at - timedelta(days=(20, 5, 1)[n]), complete=n != 2)
    for n, buyer in enumerate(shoppers):
        _order(buyer, products[n % len(products)], at - timedelta(days=30 + 6 * n))
    # Credit and points at work: goodwill credit spent at checkout, points spent too.
    service.admin_adjust(ctx.admin, shoppers[0], "credit", 1500, "Sorry for the late parcel")
    service.admin_adjust(ctx.admin, shoppers[1], "points", 400, "Meetup helper")
    _order(shoppers[0], small, at - timedelta(days=2), complete=False, use_credit_cents=1000)
    _order(shoppers[1], small, at - timedelta(days=1), complete=False, use_points=300)
    # A partial refund of a VIP's order: the rebate and the order's points follow it.
    refunded = _order(vips[0], big, at - timedelta(days=9))
    shop.refund(
        seller,
        refunded,
        reason="One item arrived scratched",
        amount_cents=refunded.total_cents // 4,
    )
    # The anniversary VIP card, given by hand.
    card = members[7] if len(members) > 7 else shoppers[-1]
    service.grant(ctx.admin, card, "vip", "Anniversary VIP card: five years on Plaza")
    # Points from other rules and a daily check-in streak.
    for n, member in enumerate(members[:6]):
        service.award(member.id, "checkin", key=f"demo-checkin:{member.id}")
        if n % 2 == 0:
            service.award(member.id, "likes", key=f"demo-likes:{member.id}", units=8)
        service.check_in(member)
    service.release_due_rebates()
    # A VIP-only snap-up.
    units = min(10, shop.available_stock([big.id]).get(big.id, 0))
    if units >= 2:
        from ..promotions import service as promotions

        snap = promotions.create_snap(
            seller,
            product_id=big.id,
            price_cents=big.price_cents * 7 // 10,
            stock=units,
            per_user_limit=1,
            starts_at=at - timedelta(minutes=5),
            ends_at=at + timedelta(days=2),
            audience="vip",
        )
        ctx.summary.append(
            f"VIP-only snap-up: /promotions/snaps/{snap.id} (try it as alice, then as "
            f"{shoppers[0].username})"
        )
    tiers: dict[str, int] = {}
    for member in members:
        tiers[member.tier] = tiers.get(member.tier, 0) + 1
    ctx.summary.append(
        "Members per tier: "
        + ", ".join(f"{k} {v}" for k, v in sorted(tiers.items()))
        + "; VIP report at /admin/members/report, my membership at /membership."
    )
