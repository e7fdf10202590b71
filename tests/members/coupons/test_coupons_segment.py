"""A coupon for a campaign segment: campaigns answers whether the buyer is in it now
(the rule evaluated for that one member); a member outside is refused and nothing is
written; the API and the admin form accept only a segment that exists, on site coupons."""

from sqlalchemy import select

from forum.extensions import db
from tests.conftest import app_context, login

from .conftest import coupon_rows, order_body
from .test_coupons_pages import FORM
from .test_coupons_rules import refused

RICH = {"field": "points", "op": "gte", "value": 100}


def make_segment(app, admin, rule=RICH, name="Points collectors"):
    from forum.accounts.models import User
    from forum.campaigns import service

    with app_context(app):
        segment = service.create_segment(db.session.get(User, admin.id), name, rule)
        db.session.commit()
        return segment.id


def give_points(app, user, amount):
    from forum.members import service

    with app_context(app):
        service.post(user.id, "points", amount, "test_gift", key=f"gift:{user.id}")
        db.session.commit()


def test_a_segment_coupon_admits_a_member_in_it_and_refuses_one_outside(
    client,
    app,
    admin,
    admin_headers,
    buyer,
    buyer_headers,
    make_user,
    token_for,
    product,
    make_coupon,
):
    segment_id = make_segment(app, admin)
    made = make_coupon(admin_headers, "INSIDERS", segment_id=segment_id)
    assert made["segment_id"] == segment_id
    # The buyer has only the 50 welcome points: outside, refused on every path, no rows.
    refused(
        client,
        app,
        buyer_headers,
        order_body(product, coupon="INSIDERS"),
        409,
        "coupon_not_eligible",
        "selected members",
    )
    insider = make_user("insider")
    give_points(app, insider, 100)
    before = coupon_rows(app)
    placed = client.post(
        "/api/v1/orders", json=order_body(product, coupon="INSIDERS"), headers=token_for(insider)
    )
    assert placed.status_code == 201, placed.get_json()
    assert placed.get_json()["discount_cents"] == 200
    after = coupon_rows(app)
    assert after["uses"]["INSIDERS"] == before["uses"]["INSIDERS"] + 1 == 1
    # Membership is read at checkout: the buyer earns their way in and is admitted.
    give_points(app, buyer, 100)
    again = client.post(
        "/api/v1/orders", json=order_body(product, coupon="INSIDERS"), headers=buyer_headers
    )
    assert again.status_code == 201, again.get_json()


def test_the_answer_is_one_member_one_query(app, admin, buyer, make_user):
    from forum.accounts.models import User
    from forum.campaigns.service.segments import answer_in_segment

    segment_id = make_segment(app, admin)
    insider = make_user("insider")
    give_points(app, insider, 100)
    with app_context(app):
        assert answer_in_segment(
            "segment", segment_id=segment_id, user=db.session.get(User, insider.id)
        )
        assert not answer_in_segment(
            "segment", segment_id=segment_id, user=db.session.get(User, buyer.id)
        )
        assert not answer_in_segment(
            "segment", segment_id=segment_id + 99, user=db.session.get(User, insider.id)
        )


def test_the_api_accepts_only_an_existing_segment_on_a_site_coupon(
    client, app, admin, admin_headers, shop, token_for
):
    segment_id = make_segment(app, admin)
    before = coupon_rows(app)
    for value, words in ((segment_id + 99, "No such segment."), ("7", None)):
        response = client.post(
            "/api/v1/coupons",
            json={"code": "NOPE", "kind": "percent", "value": 1000, "segment_id": value},
            headers=admin_headers,
        )
        assert response.status_code == 422, response.get_json()
        if words:
            assert response.get_json()["error"]["fields"]["segment_id"] == [words]
    merchant = client.post(
        "/api/v1/coupons",
        json={"code": "SHOPSEG", "kind": "percent", "value": 1000, "segment_id": segment_id},
        headers=token_for(shop.user),
    )
    assert merchant.status_code == 422
    assert "site-wide" in merchant.get_json()["error"]["fields"]["segment_id"][0]
    assert coupon_rows(app) == before


def test_the_admin_form_offers_segments_and_checks_them(app, admin, shop):
    from forum.members.coupons.models import Coupon

    segment_id = make_segment(app, admin)
    client = app.test_client()
    login(client, admin)
    page = client.get("/admin/coupons").get_data(as_text=True)
    assert f"Points collectors (#{segment_id})" in page
    bad = client.post("/admin/coupons", data={**FORM, "segment_id": str(segment_id + 99)})
    assert bad.status_code == 422 and "No such segment." in bad.get_data(as_text=True)
    made = client.post("/admin/coupons", data={**FORM, "segment_id": str(segment_id)})
    assert made.status_code == 302
    with app_context(app):
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == "PAGE10"))
        assert coupon.segment_id == segment_id
    detail = client.get("/coupons/PAGE10").get_data(as_text=True)
    assert f"members of segment #{segment_id}" in detail
    # The merchant's form has no segment field.
    merchant = app.test_client()
    login(merchant, shop.user)
    shop_page = merchant.get("/shop/merchant/coupons").get_data(as_text=True)
    assert "Campaign segment" not in shop_page
