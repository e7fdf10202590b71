"""Sign-up CPA: a registration after a click converts only once the account acts like a
person, and registrations that come too fast from one address or one link wait for the
merchant's review instead of paying."""

from datetime import timedelta

import pytest

from forum.accounts.models import User
from forum.attribution import service
from forum.attribution.models import Conversion, SignupCandidate
from forum.errors import ValidationFailed
from forum.extensions import db
from tests.attribution.conftest import START, click, set_rates, tracked_href
from tests.conftest import PASSWORD, UserRef, login


@pytest.fixture
def link(app, make_user, offers, post_with_offer, clock):
    clock.at(START)
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    set_rates(app, merchant, cps_rate_bp=0, signup=200)
    offer = offers.add(merchant)
    return merchant, author, tracked_href(app, post_with_offer(author, offer), offer)


def register_after_click(app, href: str, name: str, address: str = "203.0.113.7"):
    """A fresh browser follows the link, then registers: what a farming script does."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    click(browser, href)
    response = browser.post(
        "/register", data={"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == name))
        return UserRef(user.id, user.username, PASSWORD, user.role)


def signups(app, merchant) -> list[int]:
    with app.app_context():
        return sorted(
            db.session.scalars(
                db.select(Conversion.customer_id).where(
                    Conversion.kind == "signup", Conversion.merchant_id == merchant.id
                )
            )
        )


def status_of(app, user) -> tuple[str, str | None]:
    with app.app_context():
        candidate = db.session.get(SignupCandidate, user.id)
        return candidate.status, candidate.review_reason


def test_a_registration_after_a_click_pays_no_signup_cpa_until_the_account_posts(
    app, link, make_thread
):
    merchant, author, href = link
    newbie = register_after_click(app, href, "newbie")
    assert signups(app, merchant) == []
    with app.app_context():
        assert service.ledger_sum(merchant.id) == 0
    assert status_of(app, newbie) == ("waiting", None)
    make_thread(newbie, title="Hello, I am new", body="Glad to be here.")
    assert signups(app, merchant) == [newbie.id]
    make_thread(newbie, title="And another thread", body="Still here.")
    with app.app_context():
        assert service.ledger_sum(merchant.id) == 200
        [conversion] = db.session.scalars(db.select(Conversion)).all()
        assert [c.author_id for c in conversion.credits] == [author.id]
    assert status_of(app, newbie) == ("converted", None)


def test_five_scripted_click_and_register_pairs_from_one_address_pay_once(app, link, make_thread):
    merchant, _, href = link
    farmed = [register_after_click(app, href, f"bot{n}") for n in range(5)]
    for user in farmed:
        make_thread(user, title=f"Post by {user.username}", body="Totally a person.")
    assert signups(app, merchant) == [farmed[0].id]
    assert [status_of(app, u) for u in farmed[1:]] == [("held", "address")] * 4
    with app.app_context():
        assert service.ledger_sum(merchant.id) == 200


def test_the_merchant_reviews_held_signups_by_api_and_on_its_report_page(
    app, link, make_thread, make_user, token_for
):
    merchant, _, href = link
    first, second, third = (register_after_click(app, href, f"acct{n}") for n in range(3))
    for user in (first, second, third):
        make_thread(user, title=f"Post by {user.username}", body="Hello.")
    headers = token_for(merchant)
    held = app.test_client().get("/api/v1/merchant/signups/held", headers=headers).get_json()
    assert [h["user"]["id"] for h in held["items"]] == [second.id, third.id]
    assert {h["reason"] for h in held["items"]} == {"address"}
    approved = app.test_client().post(
        f"/api/v1/merchant/signups/{second.id}/approve", headers=headers
    )
    assert approved.status_code == 200 and approved.get_json()["status"] == "converted"
    again = app.test_client().post(f"/api/v1/merchant/signups/{second.id}/reject", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_held"
    assert signups(app, merchant) == sorted([first.id, second.id])
    # Someone else's review changes nothing: another merchant, a member.
    other = make_user("othershop", role="merchant")
    assert (
        app.test_client()
        .post(f"/api/v1/merchant/signups/{third.id}/approve", headers=token_for(other))
        .status_code
        == 404
    )
    assert (
        app.test_client()
        .post(f"/api/v1/merchant/signups/{third.id}/approve", headers=token_for(first))
        .status_code
        == 403
    )
    page = app.test_client()
    login(page, merchant)
    report = page.get("/merchant/attribution").get_data(as_text=True)
    assert "Sign-ups waiting for your review" in report and third.username in report
    rejected = page.post(f"/merchant/attribution/signups/{third.id}/reject")
    assert rejected.status_code == 303
    assert status_of(app, third)[0] == "rejected"
    assert signups(app, merchant) == sorted([first.id, second.id])
    with app.app_context():
        assert service.ledger_sum(merchant.id) == 400


def test_many_signups_through_one_link_wait_for_review(app, link, make_thread):
    merchant, _, href = link
    app.config["ATTRIBUTION_SIGNUPS_PER_LINK"] = 2
    users = [
        register_after_click(app, href, f"reader{n}", address=f"198.51.100.{n + 1}")
        for n in range(3)
    ]
    for user in users:
        make_thread(user, title=f"Post by {user.username}", body="Hi.")
    assert [status_of(app, u) for u in users] == [
        ("converted", None),
        ("converted", None),
        ("held", "link"),
    ]


def test_signups_from_one_address_far_apart_in_time_pay_each(app, link, make_thread, clock):
    merchant, _, href = link
    first = register_after_click(app, href, "monday")
    clock.at(START + timedelta(days=2))
    second = register_after_click(app, href, "wednesday")
    for user in (first, second):
        make_thread(user, title=f"Post by {user.username}", body="Hi.")
    assert signups(app, merchant) == sorted([first.id, second.id])


def test_an_account_that_never_acts_like_a_person_earns_nothing(app, link):
    merchant, _, href = link
    register_after_click(app, href, "sleeper")
    with app.app_context():
        assert service.ledger_sum(merchant.id) == 0
        with pytest.raises(ValidationFailed) as refused:
            service.on_person_activity(1, "wave")
        assert "activity" in refused.value.fields
