"""Auctions and guessing games under a rush: threads with their own connections, committed
data, the invariant checked in the database afterwards (run it on PostgreSQL)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.clock import now
from forum.extensions import db
from forum.members import service as members
from forum.members.models import LedgerEntry
from forum.promotions import service
from forum.promotions.models import Auction, AuctionSale, Guess, GuessGame, GuessPlayer
from forum.shop_embed.models import Order
from tests.conftest import app_context
from tests.fixtures.concurrency import run_threads, small_pool

from .test_concurrency import bulk_users

pytestmark = pytest.mark.xdist_group("promo-concurrency")


@pytest.fixture
def config_overrides():
    return small_pool()


def run(app, count, work):
    """``run_threads``, noting when each one committed: (results, committed_at, errors)."""
    committed: list = [None] * count
    results, errors = run_threads(
        app, count, work, after_commit=lambda index: committed.__setitem__(index, now())
    )
    return results, committed, errors


def test_sixty_buyers_take_from_five_units_each_at_its_own_moments_price(app, shop, make_product):
    product = make_product(shop, "Camera", price_cents=90000, stock=40)
    with app_context(app), app.test_request_context("/"):
        auction = service.create_auction(
            db.session.get(User, shop.user.id),
            product_id=product,
            units=5,
            start_price_cents=60000,
            floor_price_cents=59000,
            drop_cents=100,
            drop_every_seconds=5,
            starts_at=(now() - timedelta(seconds=3)).isoformat(),
            per_user_limit=1,
        )
        db.session.commit()
        auction_id = auction.id
    buyers = bulk_users(app, 60, "bidder")

    def take(index):
        user = db.session.get(User, buyers[index])
        order, _ = service.take(user, service.get_auction(auction_id))
        return ("ok", order.id)

    results, committed, errors = run(app, 60, take)
    assert errors == []
    wins = [i for i, r in enumerate(results) if isinstance(r, tuple)]
    assert len(wins) == 5
    assert {r for r in results if not isinstance(r, tuple)} == {"sold_out"}
    with app_context(app):
        db.session.remove()
        auction = db.session.get(Auction, auction_id)
        assert auction.units_left == 0
        sales = db.session.scalars(select(AuctionSale).order_by(AuctionSale.id)).all()
        assert len(sales) == 5 and len({s.user_id for s in sales}) == 5
        by_order = {index_order: committed[i] for i in wins for index_order in [results[i][1]]}
        for sale in sales:
            order = db.session.get(Order, sale.order_id)
            # The price the clock gave when the server took the unit, and what the order charges.
            assert sale.price_cents == service.price_at(auction, sale.created_at)
            assert order.items[0].unit_price_cents == sale.price_cents
            assert sale.price_cents >= auction.floor_price_cents
            # Committed after it was taken: the price at commit is at most one drop lower.
            at_commit = service.price_at(auction, by_order[order.id])
            assert at_commit <= sale.price_cents <= at_commit + auction.drop_cents
        prices = [s.price_cents for s in sales]
        assert prices == sorted(prices, reverse=True)  # taken in turn, never rising
        assert db.session.scalar(select(func.count()).select_from(Order)) == 5
        db.session.remove()


def test_forty_members_submit_two_hundred_guesses_with_a_limit_of_three(app, shop, make_product):
    product = make_product(shop, "Console", price_cents=50000, stock=5)
    players = bulk_users(app, 40, "guesser")
    with app_context(app), app.test_request_context("/"):
        game = service.create_game(
            db.session.get(User, shop.user.id),
            product_id=product,
            market_price_cents=50000,
            points_per_guess=7,
            max_guesses_per_user=3,
            ends_at=(now() + timedelta(hours=1)).isoformat(),
        )
        for user_id in players:
            members.post(user_id, "points", 100, "test grant")
        db.session.commit()
        game_id = game.id
    plan = [(players[i % 40], 100 + i) for i in range(200)]  # 5 guesses each, all distinct

    def submit(index):
        user_id, amount = plan[index]
        return service.submit_guess(
            db.session.get(User, user_id), service.get_game(game_id), amount
        )

    results, _, errors = run(app, 200, submit)
    assert errors == []
    accepted = [r for r in results if isinstance(r, dict)]
    assert len(accepted) == 120
    assert {r for r in results if not isinstance(r, dict)} == {"limit_reached"}
    with app_context(app):
        db.session.remove()
        per_member = dict(
            db.session.execute(select(Guess.user_id, func.count()).group_by(Guess.user_id)).all()
        )
        assert per_member == {user_id: 3 for user_id in players}
        assert {p.guesses for p in db.session.scalars(select(GuessPlayer))} == {3}
        assert db.session.get(GuessGame, game_id).guesses_count == 120
        debits = db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.account == "points", LedgerEntry.amount < 0)
        ).all()
        guess_ids = set(db.session.scalars(select(Guess.id)))
        # Exactly one debit per accepted guess, keyed by it, and nothing else charged.
        assert sorted(e.idempotency_key for e in debits) == sorted(f"guess:{i}" for i in guess_ids)
        assert {e.amount for e in debits} == {-7}
        for user_id in players:
            assert members.balance(user_id, "points") == 100 - 3 * 7
        db.session.remove()
