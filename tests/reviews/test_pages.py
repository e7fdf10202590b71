"""The review pages: the composer the invitation leads to (with photos), the product
page's section, cards in threads, and who may use each page."""

import io

from sqlalchemy import select

from forum.extensions import db
from forum.reviews.models import Review, ReviewPhoto
from tests.conftest import login

from .conftest import aggregates, png_bytes, write


def test_the_invitation_leads_to_a_composer_that_posts_a_review_with_photos(
    app, make_user, product, buy
):
    buyer = make_user("bea")
    order_id = buy(buyer, product)
    client = app.test_client()
    login(client, buyer)
    page = client.get(f"/reviews/write?order_id={order_id}")
    assert page.status_code == 200 and "20 points" in page.get_data(as_text=True)
    response = client.post(
        f"/reviews/write?order_id={order_id}&product_id={product}",
        data={
            "product_id": str(product),
            "rating": "4",
            "title": "Nice and quick",
            "body": "Boils a litre in 3 minutes.",
            "photos": [
                (io.BytesIO(png_bytes()), "a.png"),
                (io.BytesIO(png_bytes((0, 90, 0))), "b.png"),
            ],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        review = db.session.scalar(select(Review))
        names = [p.name for p in db.session.scalars(select(ReviewPhoto))]
    assert review.rating == 4 and len(names) == 2
    served = client.get(f"/reviews/photos/{names[0]}")
    assert served.status_code == 200 and served.mimetype == "image/png"
    served.close()
    assert client.get("/reviews/photos/../../etc").status_code == 404
    product_page = client.get(f"/shop/p/{product}").get_data(as_text=True)
    assert "Nice and quick" in product_page and "Verified purchase" in product_page
    assert aggregates(app, product)["avg"] == 4.0
    # Nothing left to review: the composer says so.
    assert "nothing to review" in client.get(f"/reviews/write?order_id={order_id}").get_data(
        as_text=True
    )


def test_a_bad_photo_or_rating_shows_form_errors_and_writes_nothing(app, make_user, product, buy):
    buyer = make_user("bea")
    order_id = buy(buyer, product)
    client = app.test_client()
    login(client, buyer)
    url = f"/reviews/write?order_id={order_id}&product_id={product}"
    bad = client.post(
        url,
        data={
            "product_id": str(product),
            "rating": "4",
            "title": "Hello",
            "body": "x",
            "photos": [(io.BytesIO(b"<svg/>"), "x.svg")],
        },
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "not an image" in bad.get_data(as_text=True)
    no_rating = client.post(url, data={"product_id": str(product), "title": "Hello", "body": "x"})
    assert no_rating.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Review)) is None


def test_the_card_in_a_thread_shows_the_new_average(app, make_user, make_thread, product, buy):
    buyer = make_user("bea")
    write(app, buyer, product, order_id=buy(buyer, product), rating=4)
    thread_id = make_thread(
        buyer, title="Look what I found", body=f"This one: [[product:{product}]]"
    )
    html = app.test_client().get(f"/t/{thread_id}").get_data(as_text=True)
    assert 'data-rating="4.0"' in html and "1 review" in html
    # The product page lists the thread that embeds it.
    assert "Look what I found" in app.test_client().get(f"/shop/p/{product}").get_data(as_text=True)


def test_the_card_in_a_chat_message_shows_the_average_too(app, make_user, token_for, product, buy):
    from forum.accounts.models import User
    from forum.chat import service as chat

    buyer, admin = make_user("bea"), make_user("chatadmin", role="admin")
    write(app, buyer, product, order_id=buy(buyer, product), rating=2)
    with app.app_context(), app.test_request_context("/"):
        chat.create_public_room(db.session.get(User, admin.id), "deals", "Deals", "")
        db.session.commit()
    sent = app.test_client().post(
        "/api/v1/chat/rooms/deals/messages",
        json={"body": f"Look: [[product:{product}]]"},
        headers=token_for(buyer),
    )
    assert sent.status_code == 201
    client = app.test_client()
    login(client, buyer)
    html = client.get(f"/chat/deals/m/{sent.get_json()['id']}").get_data(as_text=True)
    assert 'data-rating="2.0"' in html and "1 review" in html


def test_others_cannot_edit_and_anonymous_cannot_write(app, make_user, product, buy):
    author, other = make_user("auth"), make_user("other")
    review_id = write(app, author, product, order_id=buy(author, product))
    anonymous = app.test_client()
    assert anonymous.get("/reviews/write").status_code == 302
    client = app.test_client()
    login(client, other)
    assert client.get(f"/reviews/{review_id}/edit").status_code == 403
    assert client.get("/mod/reviews").status_code == 403
    assert client.get("/merchant/review-rewards").status_code == 403
    login(client := app.test_client(), author)
    assert client.get(f"/reviews/{review_id}/edit").status_code == 200
    edited = client.post(
        f"/reviews/{review_id}/edit",
        data={"rating": "2", "title": "Meh after all", "body": "It rusted."},
    )
    assert edited.status_code == 302
    assert "Boils fast" in client.get(f"/reviews/{review_id}/revisions").get_data(as_text=True)


def test_moderators_see_flagged_reviews_and_hide_them(app, make_user, product, buy):
    author, reader, mod = (
        make_user("auth"),
        make_user("reader"),
        make_user("moddy", role="moderator"),
    )
    review_id = write(app, author, product, order_id=buy(author, product))
    client = app.test_client()
    login(client, reader)
    assert client.post(f"/reviews/{review_id}/flag", data={"reason": "spam"}).status_code == 302
    assert client.post(f"/reviews/{review_id}/hide", data={"reason": "x"}).status_code == 302
    assert aggregates(app, product)["count"] == 1  # a member cannot hide
    login(mod_client := app.test_client(), mod)
    assert "Solid kettle" in mod_client.get("/mod/reviews").get_data(as_text=True)
    mod_client.post(f"/reviews/{review_id}/hide", data={"reason": "spam"})
    assert aggregates(app, product)["count"] == 0
