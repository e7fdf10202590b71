"""Lowest-unique-price guessing: guesses cost points; the lowest guess made by exactly one
member wins the right to buy the product at that amount.

Points, never money (a paid lowest-unique-bid game is a lottery in many places): each
accepted guess is one debit on the members' guarded ledger, keyed ``guess:<id>`` so it
is charged exactly once. A guess is accepted in one transaction, locks in this order:

1. the game row (one conditional UPDATE: ``guesses_count + 1`` while open), so the
   guesses of a game queue and a guess never lands after the close;
2. the member's ``promo_guess_players`` row (an upsert with a WHERE: at most
   ``max_guesses_per_user`` across every session and token of the account);
3. the guess row (unique per game, member and amount), then the member's wallet.

Guesses are private until the close: before it, nobody (page, API, socket) learns an
amount but its own guesser, who learns only whether it is unique right now and how
many unique guesses are below it. The winner is computed in SQL from the stored
guesses (``ranking``), so the result is reproducible from the table alone.

Settling (the close endpoint, or the ``promotions.close_games`` job; the winner shown
by readers is computed from the table either way): the first winner gets an order at
their amount with GUESS_PAYMENT_WINDOW_MINUTES to pay; if that order is cancelled
unpaid, the next lowest unique guess of another member wins (``on_order_changed``). No
unique guess: nobody wins and, with GUESS_REFUND_WITHOUT_WINNER (default true), every
guess's points are returned.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import func, select, update

from ... import realtime
from ...accounts.models import User
from ...clock import now
from ...database import dialect_insert, first_ids, insert_ignore
from ...errors import Conflict, ServiceError, ValidationFailed
from ...extensions import db
from ...members import service as members
from ...money import Money
from ...notifications import service as notifications
from ...shop_embed import service as shop
from ...trust import service as trust
from ..models import Guess, GuessGame, GuessPlayer, GuessWin
from .common import (
    GAMES,
    MAX_CAMPAIGN,
    check_can_act,
    check_offer_owner,
    create_offer,
    read_time,
    stamp_once,
    whole,
)
from .edits import edit_offer, editable
from .placements import post_result

KIND = "guess"
get_game, games_of, game_url, game_room = GAMES.get, GAMES.of, GAMES.url, GAMES.room
MAX_GUESSES = 50
MAX_POINTS = 100_000
CHART_BUCKETS = 20


@dataclass(frozen=True)
class Winner:
    """The next winner in line as readers see it before the settling has caught up."""

    user: User
    amount_cents: int
    rank: int


def payment_window() -> timedelta:
    return timedelta(minutes=int(current_app.config["GUESS_PAYMENT_WINDOW_MINUTES"]))


def refunds_without_winner() -> bool:
    return bool(current_app.config["GUESS_REFUND_WITHOUT_WINNER"])


# --- games ---------------------------------------------------------------------------


TERMS = ("market_price_cents", "points_per_guess", "max_guesses_per_user", "ends_at")
"""What a merchant sets (and may change until the first guess): create's and edit's fields."""


def game_terms(product, at: datetime, errors: dict, **terms) -> dict:
    """The checked columns of a game of ``product`` from its ``TERMS``; problems go to
    ``errors``."""
    market = whole(
        terms["market_price_cents"],
        "market_price_cents",
        1,
        shop.MAX_PRICE_CENTS,
        "Use the market price in whole cents.",
        errors,
    )
    points = whole(
        terms["points_per_guess"],
        "points_per_guess",
        0,
        MAX_POINTS,
        f"Use 0 to {MAX_POINTS:,} points.",
        errors,
    )
    most = whole(
        terms["max_guesses_per_user"],
        "max_guesses_per_user",
        1,
        MAX_GUESSES,
        f"Allow 1 to {MAX_GUESSES} guesses per member.",
        errors,
    )
    if product is not None and shop.available_stock([product.id]).get(product.id, 0) < 1:
        errors.setdefault("product_id", []).append("The product is out of stock.")
    end = read_time("ends_at", terms["ends_at"], errors)
    if end is not None and not at < end <= at + MAX_CAMPAIGN:
        errors.setdefault("ends_at", []).append("Close the game within the next 90 days.")
    return {
        "market_price_cents": market,
        "points_per_guess": points,
        "max_guesses_per_user": most,
        "ends_at": end,
    }


def create_game(actor, *, product_id, **terms) -> GuessGame:
    """A new guessing game for one of ``actor``'s products (``TERMS``, as ``game_terms``
    checks them). Raises Forbidden or ValidationFailed."""
    return create_offer(actor, GuessGame, product_id, game_terms, terms)


def not_started(at: datetime):
    """A game still open to edits at ``at``: open, and not one guess counted on its row
    (what a guess's guard moves first)."""
    return (GuessGame.guesses_count == 0) & GuessGame.closed_at.is_(None) & (GuessGame.ends_at > at)


def game_editable(game: GuessGame) -> bool:
    """Whether its merchant may still change it (nothing taken or guessed, not started)."""
    return editable(game, not_started)


def edit_game(actor, game: GuessGame, **changes) -> GuessGame:
    """Change the ``TERMS`` named in ``changes`` of a game nobody has guessed in yet;
    checked as create checks them. Raises Forbidden, ValidationFailed, Conflict
    ``started`` (a guess exists, or it closed). A guess racing it either comes after the
    edit (and pays the new points, within the new limits) or makes the edit refused."""
    return edit_offer(
        actor,
        game,
        changes,
        kind=KIND,
        noun="game",
        terms=TERMS,
        unstarted=not_started,
        check=lambda at, errors, merged: game_terms(game.product, at, errors, **merged),
        announce=_announce,
    )


def state_of(game: GuessGame, at: datetime | None = None) -> str:
    return "closed" if (at or now()) >= game.closes_at() else "open"


def game_payload(game: GuessGame) -> dict:
    """What anyone may see live: never an amount before the close."""
    at = now()
    data = {
        "kind": "guess",
        "id": game.id,
        "state": state_of(game, at),
        "ends_at": game.closes_at().isoformat(),
        "guesses_count": game.guesses_count,
        "server_now": at.isoformat(),
    }
    if data["state"] == "closed":
        winner = current_winner(game)
        data["winner"] = (
            {"username": winner.user.username, "amount_cents": winner.amount_cents}
            if winner
            else None
        )
    return data


def _announce(game: GuessGame) -> None:
    realtime.announce("guess_state", game_payload(game), room=game_room(game.id))


# --- guessing ------------------------------------------------------------------------


def _ended() -> Conflict:
    return Conflict("This game is closed.", code="ended")


def _unique_amounts(game_id: int):
    """Amounts guessed by exactly one member, with that member (a subquery)."""
    return (
        select(Guess.amount_cents.label("amount"), func.min(Guess.user_id).label("user_id"))
        .where(Guess.game_id == game_id)
        .group_by(Guess.amount_cents)
        .having(func.count(func.distinct(Guess.user_id)) == 1)
    )


def standing(game: GuessGame, amount: int) -> dict:
    """For the member who guessed ``amount``: is it unique now, and how many unique guesses
    are below it (nothing else about anyone's guesses)."""
    guessers = db.session.scalar(
        select(func.count(func.distinct(Guess.user_id))).where(
            Guess.game_id == game.id, Guess.amount_cents == amount
        )
    )
    unique = _unique_amounts(game.id).subquery()
    below = db.session.scalar(
        select(func.count()).select_from(unique).where(unique.c.amount < amount)
    )
    return {"amount_cents": amount, "unique_now": guessers == 1, "unique_below": int(below or 0)}


def _check_amount(game: GuessGame, amount_cents) -> None:
    if (
        isinstance(amount_cents, bool)
        or not isinstance(amount_cents, int)
        or not 1 <= amount_cents <= game.market_price_cents
    ):
        raise ValidationFailed(
            "Guess an amount in cents.",
            fields={"amount_cents": [f"Use a whole number from 1 to {game.market_price_cents}."]},
        )


def submit_guess(user, game: GuessGame, amount_cents) -> dict:
    """Guess ``amount_cents``; returns ``{amount_cents, unique_now, unique_below}``.

    Raises Conflict ``ended``, ``limit_reached``, ``already_guessed`` (the same amount
    twice), ``insufficient_points``; Forbidden (suspended); ValidationFailed (amount).
    On a refusal nothing is written (the caller rolls back): no guess, no points.
    """
    check_can_act(user)
    trust.check_commerce(user, "guess")
    _check_amount(game, amount_cents)
    at = now()
    if at >= game.closes_at():
        raise _ended()
    # 1. the game row: open, and ours until commit.
    counted = db.session.execute(
        update(GuessGame)
        .where(
            GuessGame.id == game.id,
            GuessGame.ends_at > at,
            GuessGame.closed_at.is_(None),
        )
        .values(guesses_count=GuessGame.guesses_count + 1)
        .returning(GuessGame.guesses_count)
        .execution_options(synchronize_session=False)
    ).first()
    if counted is None:
        raise _ended()
    # The terms as they stand under the lock: a merchant's edit may have landed since the
    # game was loaded (an edit needs no guess counted, so none can come after this).
    db.session.refresh(game)
    _check_amount(game, amount_cents)
    # 2. the member's allowance.
    statement = dialect_insert(GuessPlayer).values(game_id=game.id, user_id=user.id, guesses=1)
    statement = statement.on_conflict_do_update(
        index_elements=[GuessPlayer.game_id, GuessPlayer.user_id],
        set_={"guesses": GuessPlayer.guesses + 1},
        where=GuessPlayer.guesses < game.max_guesses_per_user,
    ).returning(GuessPlayer.guesses)
    if db.session.execute(statement).first() is None:
        raise Conflict(
            f"You can guess at most {game.max_guesses_per_user} times in this game.",
            code="limit_reached",
        )
    # 3. the guess, then its points.
    guess_id = db.session.execute(
        insert_ignore(
            Guess,
            {
                "game_id": game.id,
                "user_id": user.id,
                "amount_cents": amount_cents,
                "points": game.points_per_guess,
                "created_at": at,
            },
        ).returning(Guess.id)
    ).scalar()
    if guess_id is None:
        raise Conflict(
            "You already guessed that amount.",
            code="already_guessed",
            fields={"amount_cents": ["Guess another amount."]},
        )
    if game.points_per_guess:
        try:
            members.post(
                user.id,
                "points",
                -game.points_per_guess,
                f"Guess in game #{game.id}",
                key=f"guess:{guess_id}",
                game_id=game.id,
            )
        except Conflict:
            raise Conflict(
                f"A guess costs {game.points_per_guess} points; you do not have enough.",
                code="insufficient_points",
            ) from None
    _announce(game)
    return standing(game, amount_cents)


def my_guesses(user, game: GuessGame) -> list[dict]:
    """``user``'s own guesses with their standing now (only ever shown to that member)."""
    if not user or not getattr(user, "is_authenticated", False):
        return []
    amounts = db.session.scalars(
        select(Guess.amount_cents)
        .where(Guess.game_id == game.id, Guess.user_id == user.id)
        .order_by(Guess.id)
    ).all()
    return [standing(game, amount) for amount in amounts]


# --- the close -----------------------------------------------------------------------


def ranking(game: GuessGame) -> list[tuple[int, int]]:
    """Every unique guess, lowest first: ``[(amount_cents, user_id)]``, computed in SQL."""
    unique = _unique_amounts(game.id).subquery()
    return [
        (int(amount), int(user_id))
        for amount, user_id in db.session.execute(
            select(unique.c.amount, unique.c.user_id).order_by(unique.c.amount)
        )
    ]


def _lapsed(win: GuessWin, at: datetime) -> bool:
    if win.status == "lapsed":
        return True
    if win.status != "pending" or win.order_id is None:
        return False
    order = shop.find_order(win.order_id)
    return (
        order is None
        or order.status == "cancelled"
        or (order.status == "pending" and order.expires_at is not None and order.expires_at <= at)
    )


def _candidate(game: GuessGame, skipped_users: set[int]) -> tuple[int, int] | None:
    for amount, user_id in ranking(game):
        if user_id not in skipped_users:
            return amount, user_id
    return None


def current_winner(game: GuessGame):
    """Who wins now (read-only): the latest winner still in time, else the next candidate."""
    at = now()
    if at < game.closes_at():
        return None
    wins = list(
        db.session.scalars(
            select(GuessWin).where(GuessWin.game_id == game.id).order_by(GuessWin.rank)
        )
    )
    skipped = {w.user_id for w in wins if _lapsed(w, at)}
    for win in wins:
        if win.user_id not in skipped:
            return win
    candidate = _candidate(game, skipped)
    if candidate is None:
        return None
    amount, user_id = candidate
    return Winner(db.session.get(User, user_id), amount, len(wins) + 1)


def distribution(game: GuessGame) -> list[dict]:
    """After the close: how many guesses fell on each amount (the result chart's data)."""
    rows = db.session.execute(
        select(Guess.amount_cents, func.count(Guess.id))
        .where(Guess.game_id == game.id)
        .group_by(Guess.amount_cents)
        .order_by(Guess.amount_cents)
    )
    return [{"amount_cents": int(a), "guesses": int(n)} for a, n in rows]


def close_game(actor, game: GuessGame) -> GuessGame:
    """Close now (its shop or an admin) and settle: winner, order, refunds, result posted."""
    check_offer_owner(actor, game.merchant_id)
    db.session.execute(
        update(GuessGame)
        .where(GuessGame.id == game.id, GuessGame.closed_at.is_(None), GuessGame.ends_at > now())
        .values(closed_at=now())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(game)
    settle_game(game)
    return game


def settle_game(game: GuessGame) -> bool:
    """Settle a closed game once: the first winner's order, or the refunds; the result
    posted back. Returns True when this call settled it. Idempotent (conditional UPDATE)."""
    at = now()
    if game.settled_at is not None or at < game.closes_at():
        return False
    if not stamp_once(GuessGame.settled_at, game.id, at):
        return False
    db.session.refresh(game)
    winner = _award_next(game)
    if winner is None and refunds_without_winner():
        _return_points(game)
    _post_result(game, winner)
    _announce(game)
    return True


def _award_next(game: GuessGame) -> GuessWin | None:
    """The next winner in line gets their order (placed in a savepoint; a member whose
    order cannot be placed is passed over). None when no unique guess is left."""
    at = now()
    wins = list(db.session.scalars(select(GuessWin).where(GuessWin.game_id == game.id)))
    skipped = {w.user_id for w in wins}
    rank = len(wins)
    while True:
        candidate = _candidate(game, skipped)
        if candidate is None:
            return None
        amount, user_id = candidate
        rank += 1
        skipped.add(user_id)
        win = GuessWin(
            game_id=game.id, user_id=user_id, amount_cents=amount, rank=rank, created_at=at
        )
        winner = db.session.get(User, user_id)
        try:
            with db.session.begin_nested():
                order, _ = shop.place_order(
                    winner,
                    [(game.product_id, 1)],
                    kind=KIND,
                    unit_prices={game.product_id: amount},
                    pay_within=payment_window(),
                )
            win.order_id = order.id
        except ServiceError:
            win.status = "lapsed"
        db.session.add(win)
        db.session.flush()
        if win.status == "pending":
            price = Money(amount, game.currency).format()
            notifications.notify(
                user_id,
                "guess_won",
                f"You won the guessing game for {game.product.name} at {price}: pay within "
                f"{int(payment_window().total_seconds() // 60)} minutes to get it.",
                url_for("shop_embed.order", order_id=win.order_id),
                game_id=game.id,
            )
            return win


def _return_points(game: GuessGame) -> int:
    """Nobody won: every guess's points go back, once each (key ``guess-refund:<id>``)."""
    returned = 0
    for guess in db.session.scalars(
        select(Guess).where(Guess.game_id == game.id, Guess.points > 0).order_by(Guess.id)
    ):
        if members.post(
            guess.user_id,
            "points",
            guess.points,
            f"No winner in game #{game.id}: points returned",
            key=f"guess-refund:{guess.id}",
            game_id=game.id,
        ):
            returned += 1
    return returned


def on_order_changed(order, *, event, **_) -> None:
    """``signals.order_changed``: a winner paid (their win stands) or did not pay in time
    (the next lowest unique guess of another member wins)."""
    if order.kind != KIND:
        return
    win = db.session.scalar(select(GuessWin).where(GuessWin.order_id == order.id))
    if win is None or win.status != "pending":
        return
    if event.type == "paid":
        win.status = "paid"
        db.session.flush()
        return
    if event.type not in ("cancelled", "expired"):
        return
    win.status = "lapsed"
    db.session.flush()
    game = db.session.get(GuessGame, win.game_id)
    _award_next(game)
    _announce(game)


def _post_result(game: GuessGame, winner: GuessWin | None) -> None:
    name = game.product.name
    if winner is None:
        text = f"The guessing game for {name} has closed: no guess was unique, so nobody wins."
        if refunds_without_winner() and game.points_per_guess:
            text += " Everyone's points were returned."
    else:
        username = winner.user.username
        price = Money(winner.amount_cents, game.currency).plain("en")
        text = (
            f"The guessing game for {name} has closed: @{username} wins with the lowest "
            f"unique guess, {price} {game.currency}."
        )
    post_result(KIND, game.id, game.merchant.user_id, f"{text}\n\n[[guess:{game.id}]]")
    db.session.execute(
        update(GuessGame)
        .where(GuessGame.id == game.id)
        .values(result_posted_at=now())
        .execution_options(synchronize_session=False)
    )


def due_games(limit: int = 100) -> list[int]:
    at = now()
    return first_ids(
        GuessGame.id,
        GuessGame.settled_at.is_(None),
        (GuessGame.ends_at <= at) | GuessGame.closed_at.is_not(None),
        limit=limit,
    )


def chart_data(game: GuessGame) -> dict:
    """The result chart: guesses per amount bucket, and the winning amount (after the close)."""
    rows = distribution(game)
    if not rows:
        return {"labels": [], "counts": [], "winner": None}
    high = rows[-1]["amount_cents"]
    width = max(1, -(-high // CHART_BUCKETS))
    counts = [0] * CHART_BUCKETS
    for row in rows:
        counts[min(CHART_BUCKETS - 1, (row["amount_cents"] - 1) // width)] += row["guesses"]
    labels = [
        Money(min(high, (i + 1) * width), game.currency).plain("en") for i in range(CHART_BUCKETS)
    ]
    winner = current_winner(game)
    return {
        "labels": labels,
        "counts": counts,
        "winner": winner.amount_cents if winner else None,
        "currency": game.currency,
    }
