"""Who may review, what a review holds, and the aggregates after every kind of change."""

import pytest

from forum.accounts.models import User
from forum.errors import Conflict, Forbidden, ValidationFailed
from forum.extensions import db
from forum.reviews import service
from forum.reviews.models import Review

from .conftest import ADDRESS, aggregates, review_rows, write

OTHER_ADDRESS = {**ADDRESS, "line1": "9 Elm Road", "postal_code": "99999"}


def refused(app, user, product_id, error, code, **fields):
    before = review_rows(app)
    with pytest.raises(error) as caught:
        write(app, user, product_id, **fields)
    assert caught.value.code == code, caught.value.message
    assert review_rows(app) == before  # nothing written
    return caught.value


def test_a_buyer_of_a_completed_order_reviews_once_with_a_verified_badge(
    app, make_user, product, buy
):
    buyer = make_user("bea")
    order_id = buy(buyer, product)
    review_id = write(app, buyer, product, order_id=order_id, rating=5, title="Great kettle")
    with app.app_context():
        review = db.session.get(Review, review_id)
        assert review.order_id == order_id and review.rating == 5
        assert "<strong>no</strong>" in review.body_html
        assert review.purchased_at is not None
    assert aggregates(app, product) == {
        "count": 1,
        "sum": 5,
        "avg": 5.0,
        "histogram": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1},
    }


def test_a_non_buyer_is_refused_and_nothing_is_written(app, make_user, product, buy):
    refused(app, make_user("nobody"), product, Forbidden, "not_a_buyer")


def test_a_buyer_of_an_uncompleted_order_is_refused(app, make_user, product, buy):
    buyer = make_user("early")
    for status in ("pending", "paid", "shipped"):
        order_id = buy(buyer, product, status=status)
        refused(app, buyer, product, Forbidden, "order_not_completed", order_id=order_id)
    refused(app, buyer, product, Forbidden, "order_not_completed")


def test_the_merchant_cannot_review_its_own_product(app, shop, make_user, product, buy):
    merchant = shop.user
    refused(app, merchant, product, Forbidden, "merchant_cannot_review")
    # ... even when it bought it through its own shop.
    order_id = buy(merchant, product)
    refused(app, merchant, product, Forbidden, "merchant_cannot_review", order_id=order_id)


def test_a_second_review_of_the_same_order_item_is_refused(app, make_user, product, buy):
    buyer = make_user("twice")
    order_id = buy(buyer, product)
    write(app, buyer, product, order_id=order_id)
    refused(app, buyer, product, Conflict, "already_reviewed", order_id=order_id)
    refused(app, buyer, product, Conflict, "already_reviewed")
    # A second purchase is a second order item: it may be reviewed too.
    second = buy(buyer, product)
    write(app, buyer, product, order_id=second, rating=2)
    assert aggregates(app, product)["count"] == 2


def test_rating_out_of_range_is_refused(app, make_user, product, buy):
    buyer = make_user("ranger")
    order_id = buy(buyer, product)
    for rating in (0, 6, -1, 100, True, "5", None, 4.5):
        err = refused(
            app, buyer, product, ValidationFailed, "invalid", rating=rating, order_id=order_id
        )
        assert "rating" in err.fields
    err = refused(app, buyer, product, ValidationFailed, "invalid", title="", order_id=order_id)
    assert "title" in err.fields


def test_another_account_at_the_same_address_cannot_review_the_same_product(
    app, make_user, product, buy
):
    first, housemate, elsewhere = make_user("first"), make_user("housemate"), make_user("far")
    write(app, first, product, order_id=buy(first, product))
    same = {**ADDRESS, "name": "Another Name", "line1": " 1 MARKET st "}
    refused(
        app,
        housemate,
        product,
        Forbidden,
        "shared_address",
        order_id=buy(housemate, product, address=same),
    )
    write(app, elsewhere, product, order_id=buy(elsewhere, product, address=OTHER_ADDRESS))


def test_goods_shipped_to_the_merchants_own_address_cannot_be_reviewed(
    app, shop, make_user, make_shop, make_product, buy
):
    other = make_shop("otherstore")
    other_product = make_product(other, "Mug")
    buy(shop.user, other_product, address=OTHER_ADDRESS)  # the merchant's own address
    friend = make_user("friend")
    refused(
        app,
        friend,
        product := make_product(shop, "Lid"),
        Forbidden,
        "shared_address",
        order_id=buy(friend, product, address=OTHER_ADDRESS),
    )


def test_aggregates_after_insert_edit_hide_restore_and_delete(app, make_user, product, buy):
    mod = make_user("moddy", role="moderator")
    users = [
        make_user(
            f"rev{n}",
        )
        for n in range(3)
    ]
    ids = [
        write(
            app,
            user,
            product,
            order_id=buy(user, product, address={**ADDRESS, "line1": f"{n} Way"}),
            rating=rating,
        )
        for n, (user, rating) in enumerate(zip(users, (5, 3, 1), strict=True))
    ]
    assert aggregates(app, product) == {
        "count": 3,
        "sum": 9,
        "avg": 3.0,
        "histogram": {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1},
    }
    with app.app_context(), app.test_request_context("/"):
        service.edit_review(
            db.session.get(User, users[1].id),
            db.session.get(Review, ids[1]),
            rating=4,
            title="Better now",
        )
        db.session.commit()
    assert aggregates(app, product)["histogram"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1}
    assert aggregates(app, product)["sum"] == 10
    with app.app_context(), app.test_request_context("/"):
        moderator = db.session.get(User, mod.id)
        service.set_hidden(moderator, db.session.get(Review, ids[0]), True, "spam")
        service.set_hidden(moderator, db.session.get(Review, ids[0]), True, "again")  # no-op
        db.session.commit()
    assert aggregates(app, product) == {
        "count": 2,
        "sum": 5,
        "avg": 2.5,
        "histogram": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 0},
    }
    with app.app_context(), app.test_request_context("/"):
        # An edit of a hidden review changes the review, not the aggregates.
        service.edit_review(
            db.session.get(User, users[0].id), db.session.get(Review, ids[0]), rating=2
        )
        service.set_hidden(
            db.session.get(User, mod.id), db.session.get(Review, ids[0]), False, "a fair review"
        )
        db.session.commit()
    assert aggregates(app, product)["histogram"] == {"1": 1, "2": 1, "3": 0, "4": 1, "5": 0}
    with app.app_context(), app.test_request_context("/"):
        service.delete_review(db.session.get(User, users[2].id), db.session.get(Review, ids[2]))
        service.delete_review(db.session.get(User, users[2].id), db.session.get(Review, ids[2]))
        db.session.commit()
    final = aggregates(app, product)
    assert final == {
        "count": 2,
        "sum": 6,
        "avg": 3.0,
        "histogram": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0},
    }
    with app.app_context():
        assert service.recount_ratings(product) is False  # never drifted
        assert len(service.revisions(db.session.get(Review, ids[1]))) == 1


def test_only_the_author_edits_and_a_revision_is_kept(app, make_user, product, buy):
    author, other = make_user("auth"), make_user("other")
    review_id = write(app, author, product, order_id=buy(author, product))
    with app.app_context(), app.test_request_context("/"):
        review = db.session.get(Review, review_id)
        with pytest.raises(Forbidden):
            service.edit_review(db.session.get(User, other.id), review, title="Mine now")
        service.edit_review(db.session.get(User, author.id), review, body="Changed my mind")
        db.session.commit()
        old = service.revisions(review)
        assert [r.body for r in old] == ["Boils fast, **no** leaks."]
        assert review.edited_at is not None and review.body == "Changed my mind"


def test_helpful_votes_once_and_never_on_your_own(app, make_user, product, buy):
    author, reader = make_user("auth"), make_user("reader")
    review_id = write(app, author, product, order_id=buy(author, product))
    with app.app_context(), app.test_request_context("/"):
        review = db.session.get(Review, review_id)
        assert service.vote_helpful(db.session.get(User, reader.id), review) == 1
        with pytest.raises(Conflict) as again:
            service.vote_helpful(db.session.get(User, reader.id), review)
        assert again.value.code == "already_voted"
        with pytest.raises(Forbidden):
            service.vote_helpful(db.session.get(User, author.id), review)
        db.session.commit()
        assert db.session.get(Review, review_id).helpful_count == 1


def test_merchant_replies_once_and_only_the_merchant(app, shop, make_user, make_shop, product, buy):
    author = make_user("auth")
    rival = make_shop("rival")
    review_id = write(app, author, product, order_id=buy(author, product))
    with app.app_context(), app.test_request_context("/"):
        review = db.session.get(Review, review_id)
        for outsider in (author, rival.user):
            with pytest.raises(Forbidden):
                service.reply(db.session.get(User, outsider.id), review, "Thanks!")
        service.reply(db.session.get(User, shop.user.id), review, "Thanks for the *kind* words")
        with pytest.raises(Conflict) as again:
            service.reply(db.session.get(User, shop.user.id), review, "Again")
        assert again.value.code == "already_replied"
        db.session.commit()
        assert "<em>kind</em>" in db.session.get(Review, review_id).reply_html


def test_sorting_by_helpful_newest_and_rating(app, make_user, product, buy):
    users = [make_user(f"sorter{n}") for n in range(3)]
    ids = [
        write(
            app,
            u,
            product,
            order_id=buy(u, product, address={**ADDRESS, "line1": f"{n} Way"}),
            rating=r,
        )
        for n, (u, r) in enumerate(zip(users, (2, 5, 3), strict=True))
    ]
    voter = make_user("voter")
    with app.app_context(), app.test_request_context("/"):
        service.vote_helpful(db.session.get(User, voter.id), db.session.get(Review, ids[2]))
        db.session.commit()
        by = {s: [r.id for r in service.list_reviews(product, sort=s).items] for s in service.SORTS}
        assert by["newest"] == [ids[2], ids[1], ids[0]]
        assert by["rating"] == [ids[1], ids[2], ids[0]]
        assert by["helpful"][0] == ids[2]
        page = service.list_reviews(product, sort="rating", limit=2)
        rest = service.list_reviews(product, sort="rating", cursor=page.next_cursor, limit=2)
        assert [r.id for r in page.items + rest.items] == by["rating"] and rest.next_cursor is None
        with pytest.raises(ValidationFailed):
            service.list_reviews(product, sort="random")


def test_flags_go_to_the_moderators_and_hiding_resolves_them(app, make_user, product, buy):
    author, reader, mod = (
        make_user("auth"),
        make_user("reader"),
        make_user("moddy", role="moderator"),
    )
    review_id = write(app, author, product, order_id=buy(author, product))
    with app.app_context(), app.test_request_context("/"):
        review = db.session.get(Review, review_id)
        service.flag_review(db.session.get(User, reader.id), review, "spam", "an ad")
        with pytest.raises(Conflict) as again:
            service.flag_review(db.session.get(User, reader.id), review, "spam")
        assert again.value.code == "already_flagged"
        with pytest.raises(ValidationFailed):
            service.flag_review(db.session.get(User, mod.id), review, "because")
        with pytest.raises(Forbidden):
            service.flagged_reviews(db.session.get(User, reader.id))
        db.session.commit()
        assert [(r.id, n) for r, n in service.flagged_reviews(db.session.get(User, mod.id))] == [
            (review_id, 1)
        ]
        with pytest.raises(Forbidden):
            service.set_hidden(db.session.get(User, reader.id), review, True)
        service.set_hidden(db.session.get(User, mod.id), review, True, "spam")
        db.session.commit()
        assert service.flagged_reviews(db.session.get(User, mod.id)) == []
        # Hidden: gone for readers, still there for its author and moderators.
        from forum.errors import NotFound

        with pytest.raises(NotFound):
            service.get_review(review_id, viewer=db.session.get(User, reader.id))
        assert service.get_review(review_id, viewer=db.session.get(User, author.id))


def test_search_finds_products_by_their_reviews(app, make_user, product, make_product, shop, buy):
    author = make_user("auth")
    write(app, author, product, order_id=buy(author, product), body="Perfect for camping trips")
    client = app.test_client()
    assert client.get("/api/v1/search?q=submarine").get_json()["items"] == []
    page = client.get("/search?q=camping").get_data(as_text=True)
    assert "Trail Kettle" in page and "camping" in page
    body = client.get("/api/v1/search?q=camping").get_json()
    assert body["items"][0]["type"] == "product" and body["items"][0]["id"] == product
    assert "<mark>camping</mark>" in body["items"][0]["snippet"]


def test_review_texts_give_search_plain_text_of_counted_reviews_and_say_when_they_move(
    app, make_user, make_product, shop, product, buy
):
    """What search needs from reviews, through the service: the counted reviews' text as
    plain text (no Markdown, no HTML, entities decoded) per product or in id batches,
    and ``review_changed`` on every change readers see."""
    from forum import signals

    other = make_product(shop, "Mug")
    heard = []

    def listen(review, change):
        heard.append((review.id, change))

    signals.review_changed.connect(listen)
    try:
        first, second, mod = (
            make_user("first"),
            make_user("second"),
            make_user("moddy", role="moderator"),
        )
        kept = write(
            app,
            first,
            product,
            order_id=buy(first, product),
            title="Boils <fast>",
            body="**Bold** & [a link](https://example.com)\n\n<script>alert(1)</script>",
        )
        gone = write(
            app,
            second,
            product,
            order_id=buy(second, product, address={**ADDRESS, "line1": "2 Other St"}),
        )
        mug = write(app, first, other, order_id=buy(first, other), body="A mug.")
        with app.app_context(), app.test_request_context("/"):
            service.set_hidden(
                db.session.get(User, mod.id), db.session.get(Review, gone), True, "spam"
            )
            service.edit_review(
                db.session.get(User, first.id), db.session.get(Review, kept), rating=5
            )
            db.session.commit()
            texts = service.review_texts([product, other])
            assert set(texts) == {product, other}
            # Only the counted review (not the hidden one), as plain text: no markup, no script.
            assert texts[product] == "Boils <fast>. Bold & a link"
            assert texts[other].endswith("A mug.")
            assert service.review_texts([]) == {}
    finally:
        signals.review_changed.disconnect(listen)
    assert heard == [
        (kept, "created"),
        (gone, "created"),
        (mug, "created"),
        (gone, "hidden"),
        (kept, "edited"),
    ]
