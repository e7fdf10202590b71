"""Demo promotions: group-buys with teams in every state and snap-ups (running, upcoming,
sold out), embedded in a deals thread and in replies. Runs after the shop's step."""

from datetime import timedelta

from ..board import service as board
from ..clock import now
from ..errors import Conflict
from ..extensions import db
from ..shop_embed import service as shop
from . import service


def _products(merchant_user) -> list:
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

    categories = board.list_categories()
    category = next((c for c in categories if c.slug == "deals"), None) or next(
        iter(categories), None
    )
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
    _games(ctx, offers, category)


def _games(ctx, offers, category) -> None:
    """A live Dutch auction in a thread, a guessing game in the deals chat room that closes
    20 minutes into the demo session, and a ladder group-buy with a team on its second step."""
    from ..chat import service as chat

    at = now()
    rng = ctx.rng
    members = list(ctx.members)
    seller, product = offers[-1]
    auction = service.create_auction(
        seller,
        product_id=product.id,
        units=4,
        start_price_cents=product.price_cents * 9 // 10,
        floor_price_cents=product.price_cents // 2,
        drop_cents=max(1, product.price_cents // 50),
        drop_every_seconds=60,
        starts_at=at - timedelta(minutes=3),
        per_user_limit=1,
    )
    service.take(rng.choice(members), auction)
    thread = board.create_thread(
        seller,
        category,
        f"Dutch auction: {product.name}, the price drops every minute",
        "The price falls every minute until the floor; take one when it suits you.\n\n"
        f"[[auction:{auction.id}]]",
    )
    ctx.threads.append(thread)

    game_seller, game_product = offers[0]
    game = service.create_game(
        game_seller,
        product_id=game_product.id,
        market_price_cents=game_product.price_cents,
        points_per_guess=5,
        max_guesses_per_user=3,
        ends_at=at + timedelta(minutes=20),
    )
    room = chat.find_room("deals")
    if room is not None:
        chat.send_message(
            game_seller,
            room,
            f"Guess the lowest unique price and win it! Closes in 20 minutes. [[guess:{game.id}]]",
        )
    for player in rng.sample(members, min(6, len(members))):
        for _ in range(rng.randint(1, 3)):
            try:  # a refused guess (the same amount twice) is rolled back alone
                with db.session.begin_nested():
                    service.submit_guess(player, game, rng.randint(1, 40) * 25)
            except Conflict:
                continue

    ladder_seller, ladder_product = offers[1]
    price = ladder_product.price_cents
    ladder = service.create_group_buy(
        ladder_seller,
        product_id=ladder_product.id,
        group_price_cents=None,
        team_size=None,
        team_window_minutes=24 * 60,
        ends_at=at + timedelta(days=7),
        steps=[
            {"team_size": 2, "price_cents": price * 85 // 100},
            {"team_size": 3, "price_cents": price * 75 // 100},
            {"team_size": 5, "price_cents": price * 65 // 100},
        ],
    )
    crew = rng.sample(members, 3)
    team, _ = service.start_team(crew[0], ladder)
    for member in crew[1:]:
        service.join_team(member, team)  # three members: the second step
    board.reply(
        ladder_seller,
        thread,
        f"And a ladder group-buy: the more join, the less everyone pays. [[groupbuy:{ladder.id}]]",
    )
    db.session.flush()
    ctx.summary.append(
        f"Games: a live Dutch auction (thread “{thread.title}”), a guessing game in #deals "
        "closing in 20 minutes, a ladder group-buy with a team on its second step."
    )


def refresh(since, at) -> str:
    """Move every offer that was still running (or yet to start) at ``since`` on by
    ``at - since``, so the demo left yesterday is as live today as when it was built:
    snap-ups, auctions, guessing games, group-buys, their forming teams and reminders.
    Offers a merchant ended early, and games or teams already settled, stay as they are."""
    from .models import Auction, GroupBuy, GuessGame, Reminder, Snap, Team

    delta = at - since
    counts = {}
    for model, columns, still in (
        (Snap, ("starts_at", "ends_at"), (Snap.ends_at > since, Snap.ended_at.is_(None))),
        (
            Auction,
            ("starts_at", "ends_at"),
            (Auction.ends_at > since, Auction.ended_at.is_(None)),
        ),
        (
            GuessGame,
            ("ends_at",),
            (
                GuessGame.ends_at > since,
                GuessGame.closed_at.is_(None),
                GuessGame.settled_at.is_(None),
            ),
        ),
        (GroupBuy, ("ends_at",), (GroupBuy.ends_at > since, GroupBuy.ended_at.is_(None))),
        (
            Team,
            ("expires_at",),
            (Team.status == "forming", Team.settled_at.is_(None), Team.expires_at > since),
        ),
        (Reminder, ("remind_at",), (Reminder.sent_at.is_(None), Reminder.remind_at > since)),
    ):
        rows = db.session.scalars(db.select(model).where(*still)).all()
        for row in rows:
            for column in columns:
                setattr(row, column, getattr(row, column) + delta)
        counts[model.__tablename__] = len(rows)
    db.session.flush()
    offers = sum(counts[t] for t in ("promo_snaps", "promo_auctions", "promo_guess_games"))
    return (
        f"{offers} snap-ups, auctions and games, {counts['promo_group_buys']} group-buys and "
        f"{counts['promo_teams']} forming teams"
    )
