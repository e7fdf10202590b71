"""Lowest-unique-price guessing: the winner in SQL against brute force, ties, no unique
guess, a winner who never pays, points per guess and returned, and guesses invisible to
everyone else before the close (page, API and socket)."""

import random
from collections import defaultdict
from datetime import timedelta

import pytest
import time_machine

from forum.chat.models import ChatMessage
from forum.clock import now
from forum.extensions import db, socketio
from forum.members.models import LedgerEntry
from forum.promotions import service
from forum.promotions.models import Guess, GuessGame, GuessPlayer, GuessWin
from forum.promotions.tasks import finish_games
from forum.shop_embed.models import Order
from forum.shop_embed.tasks import expire_orders
from tests.conftest import app_context, login

from .games_helpers import at, count, make_game, points_of, rows, set_points


def guess(client, game_id, headers, amount):
    return client.post(
        f"/api/v1/guess-games/{game_id}/guesses", json={"amount_cents": amount}, headers=headers
    )


def brute_force(guesses: list[tuple[int, int]]):
    """(user, amount) pairs -> the lowest amount exactly one member guessed, and who."""
    by_amount = defaultdict(set)
    for user, amount in guesses:
        by_amount[amount].add(user)
    unique = sorted((amount, users.pop()) for amount, users in by_amount.items() if len(users) == 1)
    return unique


@pytest.mark.parametrize("seed", range(6))
def test_the_sql_ranking_matches_brute_force_over_random_guesses(app, shop, product, seed):
    from forum.accounts.models import User
    from forum.promotions.models import GuessGame

    rng = random.Random(seed)
    with app_context(app), app.test_request_context("/"):
        users = [
            User(
                username=f"g{seed}_{n}",
                username_key=f"g{seed}_{n}",
                email=f"g{seed}{n}@x.io",
                password_hash="x",
            )
            for n in range(25)
        ]
        db.session.add_all(users)
        db.session.flush()
        game = GuessGame(
            merchant_id=shop.merchant_id,
            product_id=product,
            currency="USD",
            market_price_cents=100,
            points_per_guess=0,
            max_guesses_per_user=5,
            ends_at=now() + timedelta(hours=1),
        )
        db.session.add(game)
        db.session.flush()
        pairs = set()
        for _ in range(rng.randint(0, 90)):
            pairs.add((rng.choice(users).id, rng.randint(1, rng.choice([5, 20, 60]))))
        for user_id, amount in pairs:
            db.session.add(Guess(game_id=game.id, user_id=user_id, amount_cents=amount))
        db.session.flush()
        expected = brute_force(list(pairs))
        assert service.ranking(game) == expected
        # And each guesser's standing, as the guess response would tell them.
        for _user_id, amount in list(pairs)[:20]:
            standing = service.guessing.standing(game, amount)
            assert standing["unique_now"] == (amount in {a for a, _ in expected})
            assert standing["unique_below"] == sum(1 for a, _ in expected if a < amount)


def test_ties_lose_and_the_lowest_unique_guess_wins_at_its_amount(
    app, client, shop, product, members
):
    game = make_game(client, shop, product, points_per_guess=10, max_guesses_per_user=3)
    (a, a_h), (b, b_h), (c, c_h) = members(3)
    for user in (a, b, c):
        set_points(app, user.id, 100)
    assert guess(client, game["id"], a_h, 100).json == {
        "amount_cents": 100,
        "unique_now": True,
        "unique_below": 0,
    }
    assert guess(client, game["id"], b_h, 100).json["unique_now"] is False  # a tie at 1.00
    assert guess(client, game["id"], b_h, 150).json == {
        "amount_cents": 150,
        "unique_now": True,
        "unique_below": 0,
    }
    assert guess(client, game["id"], c_h, 300).json == {
        "amount_cents": 300,
        "unique_now": True,
        "unique_below": 1,
    }
    assert points_of(app, b.id) == 80  # 10 points per accepted guess
    closed = client.post(f"/api/v1/guess-games/{game['id']}/close", headers=shop.headers)
    assert closed.status_code == 200
    assert closed.json["state"] == "closed"
    assert closed.json["winner"] == {"username": b.username, "amount_cents": 150}
    assert closed.json["distribution"] == [
        {"amount_cents": 100, "guesses": 2},
        {"amount_cents": 150, "guesses": 1},
        {"amount_cents": 300, "guesses": 1},
    ]
    [order] = rows(app, Order, Order.kind == "guess")
    assert (order.buyer_id, order.subtotal_cents, order.status) == (b.id, 150, "pending")
    assert points_of(app, a.id) == 90  # somebody won: no points back
    late = guess(client, game["id"], c_h, 50)
    assert late.status_code == 409 and late.json["error"]["code"] == "ended"


def test_a_winner_who_never_pays_passes_the_win_to_the_next_lowest_unique_guess(
    app, client, shop, product, members
):
    game = make_game(client, shop, product, points_per_guess=0)
    (a, a_h), (b, b_h), (c, c_h) = members(3)
    guess(client, game["id"], a_h, 120)
    guess(client, game["id"], a_h, 130)
    guess(client, game["id"], b_h, 200)
    guess(client, game["id"], c_h, 200)
    guess(client, game["id"], c_h, 250)
    client.post(f"/api/v1/guess-games/{game['id']}/close", headers=shop.headers)
    assert client.get(f"/api/v1/guess-games/{game['id']}").json["winner"]["username"] == a.username
    with time_machine.travel(now() + timedelta(minutes=61), tick=False):
        # Before any job, readers already see the next in line: a's other guess does not count.
        assert client.get(f"/api/v1/guess-games/{game['id']}").json["winner"] == {
            "username": c.username,
            "amount_cents": 250,
        }
        assert expire_orders.delay().get() == 1
        wins = rows(app, GuessWin)
        assert [(w.user_id, w.amount_cents, w.status) for w in wins] == [
            (a.id, 120, "lapsed"),
            (c.id, 250, "pending"),
        ]
        order = rows(app, Order, Order.id == wins[1].order_id)[0]
        assert (order.buyer_id, order.subtotal_cents) == (c.id, 250)


def test_no_unique_guess_means_no_winner_and_every_point_back(
    app, client, shop, product, members, make_thread
):
    game = make_game(client, shop, product, points_per_guess=25)
    (a, a_h), (b, b_h) = members(2)
    for user in (a, b):
        set_points(app, user.id, 60)
    thread_id = make_thread(a, "Guess!", f"[[guess:{game['id']}]]")
    for amount in (10, 20):
        assert guess(client, game["id"], a_h, amount).status_code == 201
        assert guess(client, game["id"], b_h, amount).status_code == 201
    poor = guess(client, game["id"], a_h, 30)
    assert poor.status_code == 409 and poor.json["error"]["code"] == "insufficient_points"
    assert count(app, Guess) == 4 and points_of(app, a.id) == 10
    with time_machine.travel(at(game["ends_at"]) + timedelta(seconds=1), tick=False):
        assert client.get(f"/api/v1/guess-games/{game['id']}").json["winner"] is None
        assert finish_games.delay().get() == 1
        assert finish_games.delay().get() == 0
        page = client.get(f"/t/{thread_id}").get_data(as_text=True)
        assert "no guess was unique, so nobody wins" in page
        assert "data-guess-chart" in page  # the result widget with its chart
    assert points_of(app, a.id) == 60 and points_of(app, b.id) == 60
    assert count(app, LedgerEntry, LedgerEntry.reason.like("No winner%")) == 4
    assert count(app, Order, Order.kind == "guess") == 0


def test_points_are_not_returned_without_a_winner_when_the_setting_says_so(
    app, client, shop, product, members
):
    app.config["GUESS_REFUND_WITHOUT_WINNER"] = False
    game = make_game(client, shop, product, points_per_guess=5)
    (a, a_h), (b, b_h) = members(2)
    for user in (a, b):
        set_points(app, user.id, 5)
        guess(client, game["id"], a_h if user is a else b_h, 40)
    client.post(f"/api/v1/guess-games/{game['id']}/close", headers=shop.headers)
    assert points_of(app, a.id) == 0


def test_the_limit_and_bad_guesses_change_nothing(app, client, shop, product, members):
    game = make_game(client, shop, product, points_per_guess=1, max_guesses_per_user=2)
    ((a, a_h),) = members(1)
    set_points(app, a.id, 10)
    assert guess(client, game["id"], a_h, 5).status_code == 201
    dup = guess(client, game["id"], a_h, 5)
    assert dup.status_code == 409 and dup.json["error"]["code"] == "already_guessed"
    assert guess(client, game["id"], a_h, 6).status_code == 201
    over = guess(client, game["id"], a_h, 7)
    assert over.status_code == 409 and over.json["error"]["code"] == "limit_reached"
    for bad in (0, -3, 8901, "12"):
        assert guess(client, game["id"], a_h, bad).status_code in (400, 422)
    assert points_of(app, a.id) == 8
    assert [p.guesses for p in rows(app, GuessPlayer)] == [2]
    assert rows(app, GuessGame)[0].guesses_count == 2
    assert client.post(f"/api/v1/guess-games/{game['id']}/close", headers=a_h).status_code == 403
    assert guess(client, 99999, a_h, 5).status_code == 404


def test_guesses_are_invisible_to_others_before_the_close(app, client, shop, product, members):
    game = make_game(client, shop, product, points_per_guess=0)
    (a, a_h), (b, b_h) = members(2)
    secret = 4321
    guess(client, game["id"], a_h, secret)
    # API: the count only; the guesser alone sees their own guess.
    seen_by_b = client.get(f"/api/v1/guess-games/{game['id']}", headers=b_h).json
    assert seen_by_b["guesses_count"] == 1 and "winner" not in seen_by_b
    assert seen_by_b["my_guesses"] == [] and "distribution" not in seen_by_b
    assert str(secret) not in str(seen_by_b)
    mine = client.get(f"/api/v1/guess-games/{game['id']}", headers=a_h).json["my_guesses"]
    assert mine == [{"amount_cents": secret, "unique_now": True, "unique_below": 0}]
    # Page: b and an anonymous reader see no amount.
    browser = app.test_client()
    login(browser, b)
    for reader in (browser, app.test_client()):
        html = reader.get(f"/promotions/guess-games/{game['id']}").get_data(as_text=True)
        assert "43.21" not in html and "4321" not in html
    owner = app.test_client()
    login(owner, a)
    assert "$43.21" in owner.get(f"/promotions/guess-games/{game['id']}").get_data(as_text=True)
    # Socket: b watching the game's room hears the count of a new guess, never its amount.
    watcher = socketio.test_client(app, namespace="/live", flask_test_client=browser)
    ack = watcher.emit(
        "watch", {"room": f"offer:guess:{game['id']}"}, namespace="/live", callback=True
    )
    assert ack.get("ok") is True
    guess(client, game["id"], a_h, 1234)
    pushes = [e for e in watcher.get_received("/live") if e["name"] == "guess_state"]
    assert pushes and pushes[-1]["args"][0]["guesses_count"] == 2
    assert "1234" not in str(pushes) and "4321" not in str(pushes)
    watcher.disconnect(namespace="/live")


def test_the_result_posts_back_to_the_chat_room(
    app, client, shop, product, members, make_user, token_for
):
    from forum.accounts.models import User
    from forum.chat import service as chat

    moderator = make_user("mod", role="moderator")
    with app_context(app), app.test_request_context("/"):
        chat.create_public_room(db.session.get(User, moderator.id), "deals", "Deals")
        db.session.commit()
    game = make_game(client, shop, product, points_per_guess=0)
    ((a, a_h),) = members(1)
    posted = client.post(
        "/api/v1/chat/rooms/deals/messages",
        json={"body": f"Play! [[guess:{game['id']}]]"},
        headers=a_h,
    )
    assert posted.status_code == 201
    guess(client, game["id"], a_h, 99)
    client.post(f"/api/v1/guess-games/{game['id']}/close", headers=shop.headers)
    with app_context(app):
        messages = db.session.scalars(
            db.select(ChatMessage)
            .join(ChatMessage.room)
            .where(ChatMessage.body.like("The guessing game%"))
        ).all()
        assert len(messages) == 1
        assert f"@{a.username} wins with the lowest unique guess, 0.99 USD" in messages[0].body
