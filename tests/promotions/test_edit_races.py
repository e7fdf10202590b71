"""A merchant's edit racing the start of an auction (its first takes) or a game's first
guesses, in threads with their own connections (run it on PostgreSQL): the edit lands
before every take or guess, which then play by the new terms, or it is refused with
``started`` and changes nothing; never both."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.clock import now, replaying
from forum.extensions import db
from forum.members import service as members
from forum.members.models import LedgerEntry
from forum.promotions import service
from forum.promotions.models import Auction, AuctionSale, Guess, GuessGame
from tests.conftest import app_context
from tests.fixtures.concurrency import run_threads, small_pool

from .test_concurrency import bulk_users

pytestmark = pytest.mark.xdist_group("promo-concurrency")

ROUNDS = 6
RACERS = 8  # takers or guessers per round, beside the one edit


@pytest.fixture
def config_overrides():
    return small_pool()


def test_an_edit_racing_the_first_takes_never_applies_to_a_started_auction(app, shop, make_product):
    product = make_product(shop, "Camera", price_cents=90000, stock=500)
    starts = now().replace(microsecond=0) + timedelta(hours=1)
    with app_context(app), app.test_request_context("/"):
        seller = db.session.get(User, shop.user.id)
        ids = [
            service.create_auction(
                seller,
                product_id=product,
                units=3,
                start_price_cents=60000,
                floor_price_cents=50000,
                drop_cents=100,
                drop_every_seconds=60,
                starts_at=starts,
                per_user_limit=1,
            ).id
            for _ in range(ROUNDS)
        ]
        db.session.commit()
    buyers = bulk_users(app, RACERS, "bidder")
    outcomes = []
    for auction_id in ids:

        def work(index, auction_id=auction_id):
            auction = service.get_auction(auction_id)
            if index == 0:  # the merchant, on the real clock: before the start
                service.edit_auction(
                    db.session.get(User, shop.user.id),
                    auction,
                    start_price_cents=70000,
                    starts_at=starts + timedelta(hours=1),
                )
                return "edited"
            # The buyers, ten seconds after the start the auction had when they loaded it.
            with replaying(starts + timedelta(seconds=10)):
                order, _ = service.take(db.session.get(User, buyers[index - 1]), auction)
            return "took"

        results, errors = run_threads(app, RACERS + 1, work)
        assert errors == []
        outcomes.append(results[0])
        with app_context(app):
            db.session.remove()
            auction = db.session.get(Auction, auction_id)
            sales = db.session.scalars(
                select(AuctionSale).where(AuctionSale.auction_id == auction_id)
            ).all()
            if results[0] == "edited":
                # Every take came after it: the auction starts later now, nothing was sold.
                assert (auction.start_price_cents, auction.starts_at) == (
                    70000,
                    starts + timedelta(hours=1),
                )
                assert sales == [] and auction.units_left == 3
                assert set(results[1:]) == {"not_started"}
            else:
                # A take came first: the edit changed nothing.
                assert results[0] == "started"
                assert (auction.start_price_cents, auction.starts_at) == (60000, starts)
                assert len(sales) == 3 == results[1:].count("took")
                assert auction.units_left == 0
                assert {s.price_cents for s in sales} == {60000}
            db.session.remove()
    print(f"\nauction edit outcomes: {outcomes}")


def test_an_edit_racing_the_first_guesses_never_applies_to_a_started_game(app, shop, make_product):
    product = make_product(shop, "Console", price_cents=50000, stock=5)
    players = bulk_users(app, RACERS, "guesser")
    with app_context(app), app.test_request_context("/"):
        seller = db.session.get(User, shop.user.id)
        ids = [
            service.create_game(
                seller,
                product_id=product,
                market_price_cents=50000,
                points_per_guess=10,
                max_guesses_per_user=3,
                ends_at=now() + timedelta(hours=1),
            ).id
            for _ in range(ROUNDS)
        ]
        for user_id in players:
            members.post(user_id, "points", 1000, "test grant")
        db.session.commit()
    outcomes = []
    for game_id in ids:

        def work(index, game_id=game_id):
            game = service.get_game(game_id)
            if index == 0:
                service.edit_game(
                    db.session.get(User, shop.user.id),
                    game,
                    points_per_guess=25,
                    max_guesses_per_user=1,
                )
                return "edited"
            user = db.session.get(User, players[index - 1])
            return service.submit_guess(user, game, 100 + index)

        results, errors = run_threads(app, RACERS + 1, work)
        assert errors == []
        outcomes.append(results[0])
        with app_context(app):
            db.session.remove()
            game = db.session.get(GuessGame, game_id)
            guesses = db.session.scalars(select(Guess).where(Guess.game_id == game_id)).all()
            debits = {
                e.idempotency_key: e.amount
                for e in db.session.scalars(
                    select(LedgerEntry).where(
                        LedgerEntry.idempotency_key.in_([f"guess:{g.id}" for g in guesses])
                    )
                )
            }
            assert len(guesses) == RACERS == game.guesses_count  # one each, every one accepted
            expected = 25 if results[0] == "edited" else 10
            if results[0] != "edited":
                assert results[0] == "started"
                assert (game.points_per_guess, game.max_guesses_per_user) == (10, 3)
            else:
                assert (game.points_per_guess, game.max_guesses_per_user) == (25, 1)
            # Each guess paid the terms of the game it was accepted into, exactly once.
            assert {g.points for g in guesses} == {expected}
            assert debits == {f"guess:{g.id}": -expected for g in guesses}
            db.session.remove()
    print(f"\ngame edit outcomes: {outcomes}")


def test_a_guess_and_a_take_loaded_before_an_edit_play_by_the_edited_terms(app, shop, make_product):
    """The interleaving the races above rarely hit: the offer is read, the edit commits
    (another connection), then the guess or take goes through its guard."""
    product = make_product(shop, "Lamp", price_cents=9000, stock=50)
    (player,) = bulk_users(app, 1, "late")
    starts = now().replace(microsecond=0) + timedelta(hours=1)
    with app_context(app), app.test_request_context("/"):
        seller = db.session.get(User, shop.user.id)
        game_id = service.create_game(
            seller,
            product_id=product,
            market_price_cents=9000,
            points_per_guess=10,
            max_guesses_per_user=3,
            ends_at=now() + timedelta(hours=1),
        ).id
        auction_id = service.create_auction(
            seller,
            product_id=product,
            units=2,
            start_price_cents=8000,
            floor_price_cents=4000,
            drop_cents=100,
            drop_every_seconds=60,
            starts_at=starts,
            per_user_limit=1,
        ).id
        members.post(player, "points", 1000, "test grant")
        db.session.commit()

    def edit():
        with app.app_context(), app.test_request_context("/"):
            seller = db.session.get(User, shop.user.id)
            service.edit_game(seller, service.get_game(game_id), points_per_guess=30)
            service.edit_auction(seller, service.get_auction(auction_id), start_price_cents=7000)
            db.session.commit()
            db.session.remove()

    with app_context(app), app.test_request_context("/"):
        game, auction = service.get_game(game_id), service.get_auction(auction_id)
        # Loaded with the old terms (and kept: nothing expires them before the guards).
        thread = threading.Thread(target=edit)
        thread.start()
        thread.join(60)
        user = db.session.get(User, player)
        wallet = members.balance(player, "points")
        service.submit_guess(user, game, 500)
        with replaying(starts + timedelta(seconds=5)):
            order, _ = service.take(user, auction)
        db.session.commit()
        assert db.session.scalar(select(Guess.points).where(Guess.game_id == game_id)) == 30
        assert members.balance(player, "points") == wallet - 30
        assert order.items[0].unit_price_cents == 7000
        db.session.remove()
