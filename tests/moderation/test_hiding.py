"""Products and reviews hidden by moderation like posts: past the flag score they are
hidden until a moderator decides; agreeing keeps them hidden (the owner is told why),
disagreeing or a later restore (with a reason) puts them back."""

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.errors import ServiceError
from forum.extensions import db
from forum.moderation.models import AuditEntry, ReviewItem
from forum.notifications.models import Notification
from forum.reviews.models import Review
from forum.shop_embed import service as shop_service
from forum.shop_embed.models import Product
from tests.conftest import app_context, login
from tests.fixtures.shop import ADDRESS
from tests.reviews.conftest import buy, write  # noqa: F401 (buy is a fixture)

from .helpers import count


def _flag(client, token_for, make_user, target, target_id, n, prefix="flagger"):
    for i in range(n):
        made = client.post(
            "/api/v1/flags",
            json={"target": target, "target_id": target_id, "reason": "spam"},
            headers=token_for(make_user(f"{prefix}{i}")),
        )
        assert made.status_code == 201, made.get_json()


def _item(app, target) -> ReviewItem:
    with app_context(app):
        item = db.session.scalar(select(ReviewItem).where(ReviewItem.target_type == target))
        db.session.expunge(item)
        return item


def _decide(client, mod, item_id, action, reason=""):
    return client.post(
        f"/api/v1/moderation/queue/{item_id}/decide",
        json={"action": action, "reason": reason},
        headers=mod,
    )


def _shown_to_members(app, product_id, member) -> dict:
    with app_context(app), app.test_request_context("/"):
        return {
            "card": product_id in shop_service.load_cards([product_id]),
            "featured": product_id in [p.id for p in shop_service.featured_products()],
            "anonymous_page": app.test_client().get(f"/shop/p/{product_id}").status_code,
            "buyable": db.session.get(Product, product_id).is_buyable,
        }


def test_a_product_past_the_flag_score_is_hidden_and_a_disagree_restores_it(
    app, client, make_user, shop, make_product, token_for
):
    product_id = make_product(shop, name="Miracle pills")
    member = make_user("member")
    shown = {"card": True, "featured": True, "anonymous_page": 200, "buyable": True}
    assert _shown_to_members(app, product_id, member) == shown
    _flag(client, token_for, make_user, "product", product_id, 3)  # 3 x 10 < 40
    assert _shown_to_members(app, product_id, member) == shown
    _flag(client, token_for, make_user, "product", product_id, 1, prefix="last")
    hidden = {"card": False, "featured": False, "anonymous_page": 404, "buyable": False}
    assert _shown_to_members(app, product_id, member) == hidden
    item = _item(app, "product")
    assert item.auto_hidden and item.status == "pending"
    assert count(app, AuditEntry, AuditEntry.action == "product.auto_hide") == 1
    with app_context(app), app.test_request_context("/"):
        buyer = db.session.get(User, member.id)
        with pytest.raises(ServiceError) as refused:
            shop_service.place_order(buyer, [(product_id, 1)], shipping_address=ADDRESS)
        db.session.rollback()
    assert "not available" in refused.value.message
    # The merchant and moderators still see the page, with why it is hidden.
    merchant = app.test_client()
    login(merchant, shop.user)
    page = merchant.get(f"/shop/p/{product_id}").get_data(as_text=True)
    assert "data-product-hidden" in page and "Hidden automatically" in page

    mod = token_for(make_user("mod", role="moderator"))
    queued = client.get("/api/v1/moderation/queue", headers=mod).get_json()["items"]
    assert queued[0]["target"] == "product" and "Miracle pills" in queued[0]["context"]
    assert _decide(client, mod, item.id, "disagree", "Real supplement").status_code == 200
    assert _shown_to_members(app, product_id, member) == shown


def test_agreeing_hides_a_product_tells_the_merchant_and_restore_needs_a_reason(
    app, client, make_user, shop, make_product, token_for
):
    product_id = make_product(shop, name="Fake sneakers")
    member = make_user("member")
    _flag(client, token_for, make_user, "product", product_id, 1)
    moderator = make_user("mod", role="moderator")
    mod = token_for(moderator)
    item = _item(app, "product")
    assert _decide(client, mod, item.id, "agree").status_code == 422
    assert _shown_to_members(app, product_id, member)["buyable"] is True
    assert _decide(client, mod, item.id, "agree", "Counterfeit goods").status_code == 200
    assert _shown_to_members(app, product_id, member)["anonymous_page"] == 404
    with app_context(app):
        note = db.session.scalar(select(Notification).where(Notification.user_id == shop.user.id))
        assert note.kind == "moderation" and "Counterfeit goods" in note.text

    browser = app.test_client()
    login(browser, moderator)
    page = browser.get(f"/shop/p/{product_id}").get_data(as_text=True)
    assert "Counterfeit goods" in page and f"/mod/target/product/{product_id}/restore" in page
    assert browser.post(f"/mod/target/product/{product_id}/restore").status_code == 422
    other = app.test_client()
    login(other, member)
    assert (
        other.post(f"/mod/target/product/{product_id}/restore", data={"reason": "mine"}).status_code
        == 403
    )
    assert _shown_to_members(app, product_id, member)["buyable"] is False
    done = browser.post(
        f"/mod/target/product/{product_id}/restore", data={"reason": "Merchant proved origin"}
    )
    assert done.status_code == 302
    assert _shown_to_members(app, product_id, member)["anonymous_page"] == 200
    assert (
        browser.post(
            f"/mod/target/product/{product_id}/restore", data={"reason": "again"}
        ).status_code
        == 409
    )
    with app_context(app):
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "product.restore"))
        assert (entry.actor_id, entry.subject_id, entry.reason) == (
            moderator.id,
            shop.user.id,
            "Merchant proved origin",
        )


@pytest.fixture
def kettle_review(app, make_user, shop, make_product, buy):  # noqa: F811
    """``kettle_review(**review)`` -> (product_id, author, review_id): a member buys a
    kettle and reviews it (``write``'s defaults, overridden by ``review``)."""

    def make(**review):
        product_id = make_product(shop, name="Kettle", price_cents=2000, stock=10)
        author = make_user("author")
        buy(author, product_id)
        return product_id, author, write(app, author, product_id, **review)

    return make


def _rating(app, product_id) -> tuple:
    with app_context(app):
        product = db.session.get(Product, product_id)
        return product.rating_count, product.rating_sum


def test_a_review_past_the_flag_score_is_hidden_until_a_moderator_decides(
    app, client, make_user, token_for, kettle_review
):
    product_id, author, review_id = kettle_review(rating=5, title="Best kettle, buy at my-shop")
    assert _rating(app, product_id) == (1, 5)
    _flag(client, token_for, make_user, "review", review_id, 4)
    with app_context(app):
        review = db.session.get(Review, review_id)
        assert review.hidden_at is not None and review.hidden_by_id is None
    assert _rating(app, product_id) == (0, 0)  # it stopped counting
    listed = client.get(f"/api/v1/products/{product_id}/reviews").get_json()["items"]
    assert listed == []
    item = _item(app, "review")
    assert item.auto_hidden

    moderator = make_user("mod", role="moderator")
    agreed = _decide(client, token_for(moderator), item.id, "agree", "Advertising")
    assert agreed.status_code == 200
    with app_context(app):
        review = db.session.get(Review, review_id)
        assert review.hidden_by_id == moderator.id and review.hidden_reason == "Advertising"
        note = db.session.scalar(
            select(Notification).where(
                Notification.user_id == author.id, Notification.kind == "moderation"
            )
        )
        assert "Advertising" in note.text
    assert _rating(app, product_id) == (0, 0)  # not taken off twice


def test_a_disagree_puts_an_auto_hidden_review_back_in_the_rating(
    app, client, make_user, token_for, kettle_review
):
    product_id, _author, review_id = kettle_review(rating=4)
    _flag(client, token_for, make_user, "review", review_id, 4)
    assert _rating(app, product_id) == (0, 0)
    item = _item(app, "review")
    mod = token_for(make_user("mod", role="moderator"))
    assert _decide(client, mod, item.id, "disagree", "Honest review").status_code == 200
    assert _rating(app, product_id) == (1, 4)
    with app_context(app):
        assert db.session.get(Review, review_id).hidden_at is None
