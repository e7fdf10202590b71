"""Live snap-ups and group-buys recommended among the offers: learnt with the product
purchases and from who took part and who clicked their cards; never one ended, sold
out, outside the member's tier, taken part in, or on a product the member bought."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from forum.accounts.models import User
from forum.attribution.models import Click
from forum.clock import now
from forum.extensions import db
from forum.promotions.models import GroupBuy, Snap, Team, TeamMember
from forum.recommend import service
from forum.shop_embed.models import Product
from tests.conftest import app_context
from tests.recommend import world as world_module

world = world_module.world  # the fixture


@pytest.fixture
def deals(app, world):
    """Deals, each taken part in (or clicked) by bob and carol, the grinder's buyers:

    G1 beans group-buy (joined)            -> alice: because she joined the grinder's
    S1 tamper snap-up (cards clicked)      -> alice
    G2 beans group-buy for VIPs (joined)   -> not alice (registered)
    S2 beans snap-up, ended (clicked)      -> nobody
    S3 beans snap-up, sold out (clicked)   -> nobody
    S4 grinder snap-up (clicked)           -> not alice: she bought the grinder
    G3 tamper group-buy (joined; alice too)-> not alice: she took part
    """
    users, products = world["users"], world["products"]
    at = now()
    with app_context(app):
        merchant_id = db.session.get(Product, products["grinder"]).merchant_id

        def group_buy(product, audience="all", members=("bob", "carol")):
            deal = GroupBuy(
                merchant_id=merchant_id,
                product_id=products[product],
                group_price_cents=800,
                currency="USD",
                team_size=5,
                team_window_minutes=60,
                audience=audience,
                ends_at=at + timedelta(days=2),
            )
            db.session.add(deal)
            db.session.flush()
            team = Team(
                group_buy_id=deal.id,
                leader_id=users[members[0]],
                size=5,
                members=len(members),
                expires_at=at + timedelta(hours=1),
            )
            db.session.add(team)
            db.session.flush()
            for name in members:
                db.session.add(TeamMember(team_id=team.id, user_id=users[name]))
            return deal.id

        def snap(product, *, ends=timedelta(days=1), left=10, clickers=("bob", "carol")):
            deal = Snap(
                merchant_id=merchant_id,
                product_id=products[product],
                price_cents=700,
                currency="USD",
                stock=10,
                stock_left=left,
                per_user_limit=2,
                starts_at=at - timedelta(days=3),
                ends_at=at + ends,
            )
            db.session.add(deal)
            db.session.flush()
            for name in clickers:
                db.session.add(
                    Click(
                        source_kind="post",
                        source_id=1,
                        embed_kind="snap",
                        embed_id=deal.id,
                        user_id=users[name],
                        dedupe_key=f"snap-{deal.id}-{name}",
                    )
                )
            return deal.id

        ids = {
            "G1": group_buy("beans"),
            "S1": snap("tamper"),
            "G2": group_buy("beans", audience="vip"),
            "S2": snap("beans", ends=-timedelta(hours=1)),
            "S3": snap("beans", left=0),
            "S4": snap("grinder"),
            "G3": group_buy("tamper", members=("bob", "carol", "alice")),
        }
        db.session.commit()
    with app_context(app), app.test_request_context("/"):
        service.recompute()
        db.session.commit()
    return {**world, "deals": ids}


def offers(client, user, token_for):
    response = client.get("/api/v1/me/recommendations", headers=token_for(user))
    assert response.status_code == 200, response.json
    return response.json["offers"]


def test_live_deals_are_offered_with_their_reason(client, deals, token_for):
    got = [o for o in offers(client, deals["refs"]["alice"], token_for) if o["kind"] != "offer"]
    assert {(o["kind"], o["id"]) for o in got} == {
        ("groupbuy", deals["deals"]["G1"]),
        ("snap", deals["deals"]["S1"]),
    }
    by_key = {(o["kind"], o["id"]): o for o in got}
    beans = by_key[("groupbuy", deals["deals"]["G1"])]
    assert beans["title"] == "House beans group-buy"
    assert beans["reason"] == "Because you joined the Grinder group-buy"
    assert beans["href"] == f"/promotions/group-buys/{deals['deals']['G1']}"
    assert (
        by_key[("snap", deals["deals"]["S1"])]["href"]
        == f"/promotions/snaps/{deals['deals']['S1']}"
    )
    # The products are still there, listed first.
    kinds = [o["kind"] for o in offers(client, deals["refs"]["alice"], token_for)]
    assert kinds == sorted(kinds, key=lambda kind: kind != "offer")


def test_card_clicks_count_and_the_tier_decides(app, client, deals, token_for):
    # A member who only clicked S1's card is offered it, as looked at.
    with app_context(app):
        db.session.add(
            Click(
                source_kind="post",
                source_id=1,
                embed_kind="snap",
                embed_id=deals["deals"]["S1"],
                user_id=deals["users"]["newbie"],
                dedupe_key="snap-newbie",
            )
        )
        db.session.execute(
            update(User).where(User.id == deals["users"]["alice"]).values(tier="vip")
        )
        db.session.commit()
    with app_context(app), app.test_request_context("/"):
        service.recompute()
        db.session.commit()
    newbie = {
        o["id"]: o["reason"]
        for o in offers(client, deals["refs"]["newbie"], token_for)
        if o["kind"] == "snap"
    }
    assert newbie[deals["deals"]["S1"]] == "Because you looked at the Steel tamper snap-up"
    vip = {(o["kind"], o["id"]) for o in offers(client, deals["refs"]["alice"], token_for)}
    assert ("groupbuy", deals["deals"]["G2"]) in vip


def test_never_ended_sold_out_or_out_of_tier_even_when_popular(app, client, deals, token_for):
    from forum.recommend.models import POPULAR, Recommendation

    with app_context(app):
        popular = {
            (row.kind, row.target_id)
            for row in db.session.query(Recommendation).filter_by(subject=POPULAR)
        }
        everyone = {(row.kind, row.target_id) for row in db.session.query(Recommendation).all()}
    d = deals["deals"]
    for gone in (("snap", d["S2"]), ("snap", d["S3"])):
        assert gone not in everyone  # ended, sold out: nobody
    assert ("groupbuy", d["G2"]) not in popular  # VIP only: not in the newcomers' list
    assert ("groupbuy", d["G1"]) in popular


def test_the_popular_fallback_keeps_the_members_exclusions(client, deals, token_for):
    """bob took part in G1 and G3 and bought every product the other deals are on: none
    is left for him, and the popular deals (G1 among them) are not shown instead."""
    d = deals["deals"]
    bob = offers(client, deals["refs"]["bob"], token_for)
    shown = {(o["kind"], o["id"]) for o in bob if o["kind"] != "offer"}
    for taken in (("groupbuy", d["G1"]), ("groupbuy", d["G3"])):
        assert taken not in shown  # he took part
    for bought in (("snap", d["S1"]), ("snap", d["S4"])):
        assert bought not in shown  # the tamper and the grinder: he bought them
    assert ("groupbuy", d["G2"]) not in shown  # VIPs only
    assert shown == set()
    # He bought every product on sale too: no popular product is offered in their place.
    assert [o for o in bob if o["kind"] == "offer"] == []
    # A newcomer still gets the popular deals, open to every tier.
    newbie = {(o["kind"], o["id"]) for o in offers(client, deals["refs"]["newbie"], token_for)}
    assert ("groupbuy", d["G1"]) in newbie and ("groupbuy", d["G2"]) not in newbie
