"""Dutch auctions and guessing games recommended among the offers, as snap-ups and
group-buys are: running or upcoming, never ended, sold out, closed, outside the tier,
already taken part in, nor a game whose guess costs more points than the member has;
each with its reason and link."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from forum.attribution.models import Click
from forum.clock import now
from forum.extensions import db
from forum.members.models import Wallet
from forum.promotions.models import Auction, AuctionSale, Guess, GuessGame
from forum.recommend import service
from forum.recommend.models import POPULAR, Recommendation
from forum.shop_embed.models import Order, OrderItem, Product
from tests.conftest import app_context
from tests.recommend import world as world_module

world = world_module.world  # the fixture


def _recompute(app):
    with app_context(app), app.test_request_context("/"):
        service.recompute()
        db.session.commit()


@pytest.fixture
def games(app, world):
    """Each taken part in by bob and carol (the grinder's buyers, as alice is):

    A1 beans auction, upcoming (bob bought a unit, carol clicked) -> alice
    A2 beans auction, ended early                                 -> nobody
    A3 tamper auction, sold out                                   -> nobody
    A4 kettle auction (the kettle is for VIPs)                    -> not alice (registered)
    Q1 beans game, free to play (guessed)                         -> alice
    Q2 tamper game, 50 points a guess (guessed)                   -> alice once she has 50
    Q3 beans game, closed                                         -> nobody
    """
    users, products = world["users"], world["products"]
    at = now()
    with app_context(app):
        merchant_id = db.session.get(Product, products["grinder"]).merchant_id

        def auction(product, *, left=3, ended=False, starts=timedelta(days=1)):
            deal = Auction(
                merchant_id=merchant_id,
                product_id=products[product],
                currency="USD",
                units=3,
                units_left=left,
                start_price_cents=2000,
                floor_price_cents=500,
                drop_cents=100,
                drop_every_seconds=600,
                per_user_limit=1,
                starts_at=at + starts,
                ends_at=at + starts + timedelta(days=1),
                ended_at=at - timedelta(minutes=5) if ended else None,
            )
            db.session.add(deal)
            db.session.flush()
            _click(users["carol"], "auction", deal.id)
            return deal.id

        def game(product, *, points=0, closed=False):
            deal = GuessGame(
                merchant_id=merchant_id,
                product_id=products[product],
                currency="USD",
                market_price_cents=2000,
                points_per_guess=points,
                max_guesses_per_user=3,
                ends_at=at + timedelta(days=2),
                closed_at=at - timedelta(minutes=5) if closed else None,
            )
            db.session.add(deal)
            db.session.flush()
            for n, name in enumerate(("bob", "carol")):
                db.session.add(Guess(game_id=deal.id, user_id=users[name], amount_cents=100 + n))
            return deal.id

        ids = {
            "A1": auction("beans", starts=-timedelta(hours=1) + timedelta(days=1)),
            "A2": auction("beans", ended=True, starts=-timedelta(hours=1)),
            "A3": auction("tamper", left=0, starts=-timedelta(hours=1)),
            "A4": auction("kettle"),
            "Q1": game("beans"),
            "Q2": game("tamper", points=50),
            "Q3": game("beans", closed=True),
        }
        for key in ("A1", "A4"):
            order = Order(
                kind="auction",
                buyer_id=users["bob"],
                merchant_id=merchant_id,
                status="paid",
                currency="USD",
                subtotal_cents=900,
                total_cents=900,
            )
            order.items.append(
                OrderItem(
                    product_id=products["beans" if key == "A1" else "kettle"],
                    name="unit",
                    unit_price_cents=900,
                    quantity=1,
                    line_total_cents=900,
                )
            )
            db.session.add(order)
            db.session.flush()
            db.session.add(
                AuctionSale(
                    auction_id=ids[key], user_id=users["bob"], order_id=order.id, price_cents=900
                )
            )
        db.session.merge(Wallet(user_id=users["alice"], points=10, credit_cents=0))
        db.session.commit()
    _recompute(app)
    return {**world, "deals": ids}


def _click(user_id, kind, ident):
    db.session.add(
        Click(
            source_kind="post",
            source_id=1,
            embed_kind=kind,
            embed_id=ident,
            user_id=user_id,
            dedupe_key=f"{kind}-{ident}-{user_id}",
        )
    )


def _offers(client, user, token_for):
    response = client.get("/api/v1/me/recommendations", headers=token_for(user))
    assert response.status_code == 200, response.json
    return {(o["kind"], o["id"]): o for o in response.json["offers"] if o["kind"] != "offer"}


def test_auctions_and_games_are_offered_with_their_reason_and_link(client, games, token_for):
    d = games["deals"]
    got = _offers(client, games["refs"]["alice"], token_for)
    assert set(got) == {("auction", d["A1"]), ("guess", d["Q1"])}
    auction, game = got[("auction", d["A1"])], got[("guess", d["Q1"])]
    assert auction["title"] == "House beans auction"
    assert auction["href"] == f"/promotions/auctions/{d['A1']}"
    assert game["title"] == "House beans guessing game"
    assert game["href"] == f"/promotions/guess-games/{d['Q1']}"
    for offer in (auction, game):
        assert offer["reason"].startswith("Because you ")


def test_never_ended_sold_out_closed_or_out_of_tier(app, games):
    d = games["deals"]
    with app_context(app):
        rows = db.session.query(Recommendation).all()
    everyone = {(row.kind, row.target_id) for row in rows}
    popular = {(row.kind, row.target_id) for row in rows if row.subject == POPULAR}
    for gone in (("auction", d["A2"]), ("auction", d["A3"]), ("guess", d["Q3"])):
        assert gone not in everyone
    assert ("auction", d["A4"]) not in popular  # the kettle is for VIPs
    assert ("auction", d["A1"]) in popular


def test_taking_part_reasons_and_the_points_a_guess_costs(app, client, games, token_for):
    d, users = games["deals"], games["users"]
    with app_context(app):
        # newbie guessed in Q1 and clicked A1's card; alice can now afford Q2.
        db.session.add(Guess(game_id=d["Q1"], user_id=users["newbie"], amount_cents=777))
        _click(users["newbie"], "auction", d["A1"])
        db.session.execute(update(Wallet).where(Wallet.user_id == users["alice"]).values(points=50))
        db.session.commit()
    _recompute(app)
    alice = _offers(client, games["refs"]["alice"], token_for)
    assert ("guess", d["Q2"]) in alice
    newbie = _offers(client, games["refs"]["newbie"], token_for)
    assert ("guess", d["Q1"]) not in newbie  # took part already
    # Playing Q1 (weight 2) says more than clicking A1's card (1): it is the reason.
    assert newbie[("auction", d["A1"])]["reason"] == (
        "Because you played the House beans guessing game"
    )
    # bob bought a unit of A1 and A4, and guessed in Q1 and Q2: none is in his own list.
    with app_context(app):
        own = {
            (row.kind, row.target_id)
            for row in db.session.query(Recommendation).filter_by(subject=f"user:{users['bob']}")
        }
    taken = {("auction", d["A1"]), ("auction", d["A4"]), ("guess", d["Q1"]), ("guess", d["Q2"])}
    assert not own & taken
