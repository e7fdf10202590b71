"""Rewards: paid once per order item through members' service (the points are members'
"review" and "report" earning rules), the same for every rating, labelled to readers,
reversed wholly on a full refund, on removal for abuse and on deletion, in proportion on
a partial refund."""

import pytest
from sqlalchemy import func, select

from forum.accounts.models import User
from forum.extensions import db
from forum.members.models import LedgerEntry
from forum.reviews import service
from forum.reviews.models import Review, RewardGrant
from forum.shop_embed import service as shop_service
from forum.shop_embed.models import Order

from .conftest import ADDRESS, points_of, write

WELCOME = 50  # every account's welcome points


REWARD_REASONS = LedgerEntry.reason.like("%reward%") | LedgerEntry.reason.in_(
    ("earn:review", "earn:report")
)


def reward_entries(app, user_id, account="points"):
    with app.app_context():
        return [
            (e.amount, e.reason, e.idempotency_key)
            for e in db.session.scalars(
                select(LedgerEntry)
                .where(
                    LedgerEntry.user_id == user_id,
                    LedgerEntry.account == account,
                    REWARD_REASONS,
                )
                .order_by(LedgerEntry.id)
            )
        ]


def set_rule(app, rule, points, *, active=True, daily_cap=None):
    """An admin edits members' earning rule (the one source of the reward's points)."""
    from forum.members import service as members

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        members.update_points_rule(admin, rule, points=points, daily_cap=daily_cap, active=active)
        db.session.commit()


def refund(app, shop, order_id, amount_cents=None):
    with app.app_context(), app.test_request_context("/"):
        order = db.session.get(Order, order_id)
        shop_service.refund(
            db.session.get(User, shop.user.id), order, reason="test", amount_cents=amount_cents
        )
        db.session.commit()


def grant_of(app):
    with app.app_context():
        row = db.session.scalar(select(RewardGrant))
        db.session.expunge(row)
        return row


def test_a_review_is_rewarded_once_and_labelled(app, make_user, product, buy):
    buyer = make_user("bea")
    order_id = buy(buyer, product)
    review_id = write(app, buyer, product, order_id=order_id)
    assert points_of(app, buyer.id) == (WELCOME + 20, WELCOME + 20)
    entries = reward_entries(app, buyer.id)
    assert len(entries) == 1 and entries[0][0] == 20 and entries[0][1] == "earn:review"
    with app.app_context(), app.test_request_context("/"):
        review = db.session.get(Review, review_id)
        assert review.rewarded is True
        # Paying again for the same order item does nothing.
        assert (
            service.rewards.grant(
                "review",
                subject_id=review.id,
                user_id=buyer.id,
                order_id=order_id,
                order_item_id=review.order_item_id,
                merchant_id=review.merchant_id,
            )
            is None
        )
        db.session.commit()
    assert points_of(app, buyer.id)[0] == WELCOME + 20
    # Readers see the disclosure on the product page and in the API.
    page = app.test_client().get(f"/shop/p/{product}").get_data(as_text=True)
    assert "Rewarded review" in page and "data-rewarded" in page
    assert "whatever the rating" in page
    api = app.test_client().get(f"/api/v1/products/{product}/reviews").get_json()
    assert api["items"][0]["rewarded"] is True and api["items"][0]["verified_purchase"] is True


def test_the_reward_is_the_same_for_one_star_and_five_stars(
    app, make_user, make_product, shop, buy
):
    first, second = make_product(shop, "One"), make_product(shop, "Two")
    low, high = make_user("low"), make_user("high")
    write(app, low, first, order_id=buy(low, first), rating=1, body="Broke on day one.")
    write(
        app,
        high,
        second,
        order_id=buy(high, second, address={**ADDRESS, "line1": "2 Other St"}),
        rating=5,
        body="Love it!",
    )
    with app.app_context():
        grants = {
            g.user_id: (g.points, g.credit_cents) for g in db.session.scalars(select(RewardGrant))
        }
    assert grants[low.id] == grants[high.id] == (20, 0)
    assert points_of(app, low.id) == points_of(app, high.id)


def test_the_points_are_members_review_rule(app, make_user, make_product, shop, buy):
    """One source of truth: members' rules table says what a review earns, for the
    invitation, the composer and the payment alike; switched off, nothing is paid and
    the review is not labelled as rewarded."""
    make_user("rulesadmin", role="admin")
    set_rule(app, "review", 35)
    buyer = make_user("bea")
    first, second = make_product(shop, "First"), make_product(shop, "Second")
    order_id = buy(buyer, first)
    with app.app_context(), app.test_request_context("/"):
        assert service.reward_for("review", shop.merchant_id)["points"] == 35
        assert "earn 35 points" in service.invitation_text(db.session.get(Order, order_id))
    write(app, buyer, first, order_id=order_id)
    assert points_of(app, buyer.id)[0] == WELCOME + 35
    set_rule(app, "review", 35, active=False)
    other = write(app, buyer, second, order_id=buy(buyer, second))
    assert points_of(app, buyer.id)[0] == WELCOME + 35
    with app.app_context():
        assert db.session.get(Review, other).rewarded is False
        assert db.session.scalar(select(func.count()).select_from(RewardGrant)) == 1


def test_site_credit_and_merchant_top_up_add_up(app, make_user, shop, product, buy):
    make_user("rulesadmin", role="admin")
    set_rule(app, "review", 10)
    app.config.update(REVIEW_REWARD_CREDIT_CENTS=100)
    with app.app_context(), app.test_request_context("/"):
        service.set_merchant_topup(
            db.session.get(User, shop.user.id), review_points=5, review_credit_cents=50
        )
        db.session.commit()
    buyer = make_user("bea")
    write(app, buyer, product, order_id=buy(buyer, product))
    with app.app_context():
        from forum.members import service as members

        assert members.balance(buyer.id, "credit") == 150
        assert members.balance(buyer.id, "points") == WELCOME + 15


def test_merchant_top_up_is_checked(app, make_user, shop):
    from forum.errors import Forbidden, ValidationFailed

    member = make_user("member2")
    with app.app_context(), app.test_request_context("/"):
        with pytest.raises(Forbidden):
            service.set_merchant_topup(db.session.get(User, member.id), review_points=5)
        with pytest.raises(ValidationFailed):
            service.set_merchant_topup(db.session.get(User, shop.user.id), review_points=-1)


def test_refund_reverses_the_reward_once(app, make_user, shop, product, buy):
    buyer = make_user("bea")
    order_id = buy(buyer, product)
    write(app, buyer, product, order_id=order_id)
    refund(app, shop, order_id)
    assert points_of(app, buyer.id) == (WELCOME, WELCOME)
    entries = reward_entries(app, buyer.id)
    assert [(a, r) for a, r, _k in entries] == [
        (20, "earn:review"),
        (-20, "review_reward_reversed"),
    ]
    with app.app_context():
        grant = db.session.scalar(select(RewardGrant))
        assert grant.status == "reversed" and grant.reversed_reason == "order_refunded"
        # Reversing again changes nothing.
        assert service.reverse("review", grant.order_item_id, "again") is None


def test_removal_for_abuse_reverses_and_restore_never_pays_again(app, make_user, product, buy):
    buyer, mod = make_user("bea"), make_user("moddy", role="moderator")
    review_id = write(app, buyer, product, order_id=buy(buyer, product))
    with app.app_context(), app.test_request_context("/"):
        review = db.session.get(Review, review_id)
        service.set_hidden(db.session.get(User, mod.id), review, True, "fake")
        db.session.commit()
    assert points_of(app, buyer.id)[0] == WELCOME
    with app.app_context(), app.test_request_context("/"):
        service.set_hidden(
            db.session.get(User, mod.id), db.session.get(Review, review_id), False, "fair after all"
        )
        db.session.commit()
    assert points_of(app, buyer.id)[0] == WELCOME
    assert len(reward_entries(app, buyer.id)) == 2


def test_a_reversal_takes_only_what_is_left(app, make_user, shop, product, buy):
    from forum.members import service as members

    buyer = make_user("spender")
    order_id = buy(buyer, product)
    write(app, buyer, product, order_id=order_id)
    with app.app_context(), app.test_request_context("/"):
        members.post(buyer.id, "points", -(WELCOME + 15), "spent", key="spend-test")
        db.session.commit()
    refund(app, shop, order_id)
    assert points_of(app, buyer.id) == (0, 0)  # never negative; 5 of 20 taken back
    with app.app_context():
        entry = db.session.scalar(
            select(LedgerEntry).where(LedgerEntry.reason == "review_reward_reversed")
        )
        assert entry.amount == -5 and entry.params["short"] == 15


def test_a_partial_refund_takes_back_the_same_share_of_the_reward(
    app, make_user, shop, product, buy
):
    """A quarter of the order refunded takes a quarter of every part of the reward back
    (points and credit), once per refund; a second partial refund its own share; the
    full refund that follows the rest, and then the grant is reversed."""
    app.config.update(REVIEW_REWARD_CREDIT_CENTS=100)
    from forum.members import service as members

    buyer = make_user("bea")
    order_id = buy(buyer, product)
    write(app, buyer, product, order_id=order_id)
    with app.app_context():
        total = db.session.get(Order, order_id).total_cents
    assert total == 3000  # 25.00 kettle + 5.00 shipping
    refund(app, shop, order_id, amount_cents=750)
    assert points_of(app, buyer.id)[0] == WELCOME + 20 - 5
    with app.app_context():
        assert members.balance(buyer.id, "credit") == 100 - 25
    assert grant_of(app).status == "paid"  # still a rewarded review, for what was kept
    with app.app_context():
        assert db.session.scalar(select(Review.rewarded)) is True
    refund(app, shop, order_id, amount_cents=1500)  # another half
    assert points_of(app, buyer.id)[0] == WELCOME + 20 - 5 - 10
    with app.app_context():
        assert members.balance(buyer.id, "credit") == 100 - 25 - 50
    refund(app, shop, order_id)  # the rest
    assert points_of(app, buyer.id)[0] == WELCOME
    with app.app_context():
        assert members.balance(buyer.id, "credit") == 0
    assert [a for a, _r, _k in reward_entries(app, buyer.id)] == [20, -5, -10, -5]
    assert [a for a, _r, _k in reward_entries(app, buyer.id, "credit")] == [100, -25, -50, -25]
    grant = grant_of(app)
    assert grant.status == "reversed" and grant.reversed_reason == "order_refunded"


def test_a_partial_refund_is_taken_once_and_never_after_a_full_reversal(
    app, make_user, shop, product, buy
):
    from forum.shop_embed.models import OrderEvent

    buyer, mod = make_user("bea"), make_user("moddy", role="moderator")
    order_id = buy(buyer, product)
    review_id = write(app, buyer, product, order_id=order_id)
    refund(app, shop, order_id, amount_cents=1500)
    with app.app_context(), app.test_request_context("/"):
        event = db.session.scalar(
            select(OrderEvent).where(
                OrderEvent.order_id == order_id, OrderEvent.type == "partially_refunded"
            )
        )
        service.on_order_changed(db.session.get(Order, order_id), event=event)  # redelivered
        db.session.commit()
    assert points_of(app, buyer.id)[0] == WELCOME + 10
    with app.app_context(), app.test_request_context("/"):  # removed for abuse: the rest
        service.set_hidden(
            db.session.get(User, mod.id), db.session.get(Review, review_id), True, "fake"
        )
        db.session.commit()
    assert points_of(app, buyer.id)[0] == WELCOME
    refund(app, shop, order_id, amount_cents=300)
    assert points_of(app, buyer.id)[0] == WELCOME
    assert [a for a, _r, _k in reward_entries(app, buyer.id)] == [20, -10, -10]
    assert grant_of(app).reversed_reason == "removed_for_abuse"


def test_the_author_deleting_the_review_gives_the_reward_back(app, make_user, product, buy):
    buyer = make_user("bea")
    review_id = write(app, buyer, product, order_id=buy(buyer, product))
    with app.app_context(), app.test_request_context("/"):
        service.delete_review(db.session.get(User, buyer.id), db.session.get(Review, review_id))
        db.session.commit()
    assert points_of(app, buyer.id)[0] == WELCOME
    assert grant_of(app).reversed_reason == "review_deleted"
