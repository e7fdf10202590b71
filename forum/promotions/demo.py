"""Demo promotions: group-buys with teams in every state and snap-ups (running, upcoming,
sold out), embedded in a deals thread and in replies. Runs after the shop's step."""

from datetime import timedelta

from sqlalchemy import select

from ..board import service as board
from ..board.models import Category
from ..clock import now
from ..extensions import db
from ..shop_embed import service as shop
from ..shop_embed.models import Product
from . import service


def _products(merchant_user) -> list[Product]:
    merchant = shop.merchant_of(merchant_user)
    if merchant is None:
        return []
    products = shop.merchant_products(merchant, only_buyable=True)
    stock = shop.available_stock(p.id for p in products)
    return [p for p in products if p.price_cents >= 200 and stock.get(p.id, 0) >= 8]


def build(ctx) -> None:
    at = now()
    offers = [(user, product) for user in ctx.merchants for product in _products(user)]
    if len(offers) < 4:
        return
    rng = ctx.rng
    members = list(ctx.members)
    group_buys: list = []
    for seller, product in offers[:2]:
        group_buys.append(
            service.create_group_buy(
                seller,
                product_id=product.id,
                group_price_cents=product.price_cents * 7 // 10,
                team_size=3 if not group_buys else 2,
                team_window_minutes=24 * 60,
                ends_at=at + timedelta(days=14),
                auto_complete=bool(group_buys),
            )
        )
    # Teams: one nearly full, one just started, one complete.
    first = group_buys[0]
    picks = rng.sample(members, 6)
    nearly, _ = service.start_team(picks[0], first)
    service.join_team(picks[1], nearly)
    service.start_team(picks[2], first)
    done, _ = service.start_team(picks[3], first)
    service.join_team(picks[4], done)
    service.join_team(picks[5], done)
    service.start_team(rng.choice(members), group_buys[1])
    db.session.flush()

    snaps = []
    windows = [
        (timedelta(minutes=-5), timedelta(hours=6)),
        (timedelta(hours=2), timedelta(hours=5)),
    ]
    for (seller, product), (start, end) in zip(offers[2:4], windows, strict=True):
        stock = min(20, shop.available_stock([product.id]).get(product.id, 0))
        if stock < 2:
            continue
        snaps.append(
            service.create_snap(
                seller,
                product_id=product.id,
                price_cents=product.price_cents // 2,
                stock=stock,
                per_user_limit=2,
                starts_at=at + start,
                ends_at=at + end,
            )
        )
    if snaps and snaps[0].starts_at <= at:
        for buyer in rng.sample(members, 3):
            service.buy_snap(buyer, snaps[0], 1)
    db.session.flush()

    deals = db.session.scalar(select(Category).where(Category.slug == "deals"))
    category = deals or db.session.scalars(select(Category)).first()
    if category is None:
        return
    body = (
        "Team up and save: each of these unlocks a group price when the team fills.\n\n"
        + "\n\n".join(f"[[groupbuy:{g.id}]]" for g in group_buys)
        + "\n\nAnd be quick for these snap-ups:\n\n"
        + "\n\n".join(f"[[snap:{s.id}]]" for s in snaps)
    )
    thread = board.create_thread(
        group_buys[0].merchant.user, category, "Group-buys and snap-ups this week", body
    )
    ctx.threads.append(thread)
    board.reply(
        rng.choice(members),
        thread,
        f"Joined a team, one more needed! [[groupbuy:{first.id}]]",
    )
    ctx.summary.append(
        f"Promotions: {len(group_buys)} group-buys, {len(snaps)} snap-ups "
        f"(thread “{thread.title}”, /promotions)."
    )
