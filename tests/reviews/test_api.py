"""The Reviews API exactly as shared/API.md writes it, and who may call what."""

from .conftest import review_rows


def post_review(client, product, headers, **body):
    payload = {"rating": 4, "title": "Does the job", "body": "Good value."}
    payload.update(body)
    return client.post(f"/api/v1/products/{product}/reviews", json=payload, headers=headers)


def test_review_round_trip(app, client, make_user, token_for, shop, product, buy):
    buyer, reader = make_user("bea"), make_user("reader")
    order_id = buy(buyer, product)
    response = post_review(client, product, token_for(buyer), order_id=order_id)
    assert response.status_code == 201, response.get_json()
    review = response.get_json()
    assert {
        "id",
        "product_id",
        "author",
        "rating",
        "title",
        "body_html",
        "verified_purchase",
        "rewarded",
        "created_at",
    } <= set(review)
    assert review["verified_purchase"] is True and review["rewarded"] is True
    assert review["author"]["username"] == "bea" and review["product_id"] == product

    again = post_review(client, product, token_for(buyer), order_id=order_id)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_reviewed"

    listing = client.get(f"/api/v1/products/{product}/reviews?sort=newest").get_json()
    assert [r["id"] for r in listing["items"]] == [review["id"]] and listing["next_cursor"] is None
    assert client.get(f"/api/v1/products/{product}/reviews?sort=nope").status_code == 422

    helpful = client.post(f"/api/v1/reviews/{review['id']}/helpful", headers=token_for(reader))
    assert helpful.status_code == 200 and helpful.get_json() == {"helpful_count": 1}
    twice = client.post(f"/api/v1/reviews/{review['id']}/helpful", headers=token_for(reader))
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "already_voted"

    reply = client.post(
        f"/api/v1/reviews/{review['id']}/reply", json={"body": "Thank you!"}, headers=shop.headers
    )
    assert reply.status_code == 201 and "Thank you!" in reply.get_json()["body_html"]
    second = client.post(
        f"/api/v1/reviews/{review['id']}/reply", json={"body": "x"}, headers=shop.headers
    )
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "already_replied"
    stranger = client.post(
        f"/api/v1/reviews/{review['id']}/reply", json={"body": "x"}, headers=token_for(reader)
    )
    assert stranger.status_code == 403

    product_json = client.get(f"/api/v1/products/{product}").get_json()
    assert product_json["rating_avg"] == 4.0 and product_json["rating_count"] == 1
    assert product_json["rating_histogram"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}


def test_a_product_without_reviews_has_a_null_average(client, product):
    body = client.get(f"/api/v1/products/{product}").get_json()
    assert body["rating_avg"] is None and body["rating_count"] == 0
    assert body["rating_histogram"] == {str(n): 0 for n in range(1, 6)}


def test_refusals_over_the_api_change_nothing(
    app, client, make_user, token_for, shop, product, buy
):
    buyer, stranger = make_user("bea"), make_user("stranger")
    pending = buy(buyer, product, status="pending")
    before = review_rows(app)
    cases = [
        (None, {}, 401, "not_authenticated"),
        (token_for(stranger), {}, 403, "not_a_buyer"),
        (token_for(buyer), {"order_id": pending}, 403, "order_not_completed"),
        (shop.headers, {}, 403, "merchant_cannot_review"),
        (token_for(buyer), {"rating": 9}, 422, "invalid"),
        (token_for(buyer), {"rating": "5"}, 422, "invalid"),
        (token_for(buyer), {"rating": 4, "extra": 1}, 422, "invalid"),
    ]
    for headers, body, status, code in cases:
        response = post_review(client, product, headers or {}, **body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"]["code"] == code
    assert post_review(client, 999999, token_for(buyer)).status_code == 404
    assert review_rows(app) == before


def test_edit_delete_and_flag_over_the_api(app, client, make_user, token_for, product, buy):
    buyer, other = make_user("bea"), make_user("other")
    review = post_review(client, product, token_for(buyer), order_id=buy(buyer, product)).get_json()
    url = f"/api/v1/reviews/{review['id']}"
    assert client.patch(url, json={"rating": 2}, headers=token_for(other)).status_code == 403
    edited = client.patch(url, json={"rating": 2}, headers=token_for(buyer))
    assert edited.status_code == 200 and edited.get_json()["edited_at"]
    assert client.get(f"/api/v1/products/{product}").get_json()["rating_avg"] == 2.0
    flag = client.post(f"{url}/flag", json={"reason": "spam"}, headers=token_for(other))
    assert flag.status_code == 204
    assert (
        client.post(f"{url}/flag", json={"reason": "spam"}, headers=token_for(other)).status_code
        == 409
    )
    assert client.delete(url, headers=token_for(other)).status_code == 403
    assert client.delete(url, headers=token_for(buyer)).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get(f"/api/v1/products/{product}").get_json()["rating_count"] == 0
