"""Sponsorship is the merchant's own act: a host's sponsor_id is a request that bills nobody
until the merchant accepts it, on its sponsorships page or through the API."""

from datetime import timedelta

import pytest

from forum import embeds
from forum.accounts.models import User
from forum.attribution import service as attribution
from forum.attribution.models import Click, Conversion
from forum.board.models import Post
from forum.clock import now
from forum.events import service
from forum.events.models import Event
from forum.extensions import db
from forum.markup import EmbedRef
from tests.attribution.conftest import click, set_rates
from tests.conftest import app_context, login


@pytest.fixture
def merchant(app, make_user):
    shop = make_user("kettleshop", role="merchant")
    set_rates(app, shop, cps_rate_bp=0, event_signup=250)
    return shop


def _event_body(**extra):
    starts = now() + timedelta(days=3)
    return {
        "title": "Tasting night",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "location": "Market hall",
        "capacity": 20,
        **extra,
    }


def _card_href(app, make_thread, author, event_id: int) -> str:
    thread_id = make_thread(author, title="Come along", body=f"[[event:{event_id}]]")
    with app_context(app), app.test_request_context("/"):
        post = db.session.scalar(db.select(Post).where(Post.thread_id == thread_id))
        return embeds.href(
            EmbedRef("event", event_id), embeds.EmbedContext("post", post.id, post.author_id)
        )


def _click_and_sign_up(app, make_user, name: str, href: str, event_id: int, token_for):
    reader = make_user(name)
    browser = app.test_client()
    login(browser, reader)
    click(browser, href)
    response = browser.post(f"/api/v1/events/{event_id}/signup", headers=token_for(reader))
    assert response.status_code == 201, response.get_json()
    return reader


def _conversions(app, merchant_id: int) -> list[tuple[str, int]]:
    with app_context(app):
        return [
            (c.kind, c.customer_id)
            for c in db.session.scalars(
                db.select(Conversion).where(Conversion.merchant_id == merchant_id)
            )
        ]


def test_a_member_naming_a_merchant_as_sponsor_bills_it_nothing_until_it_accepts(
    app, make_user, make_thread, merchant, token_for
):
    host = make_user("hostess")
    created = app.test_client().post(
        "/api/v1/events", json=_event_body(sponsor_id=merchant.id), headers=token_for(host)
    )
    assert created.status_code == 201, created.get_json()
    event = created.get_json()
    assert event["sponsor"] is None
    assert event["sponsor_request"]["merchant"]["id"] == merchant.id
    public = app.test_client().get(f"/api/v1/events/{event['id']}").get_json()
    assert public["sponsor"] is None and "sponsor_request" not in public
    href = _card_href(app, make_thread, host, event["id"])
    first = _click_and_sign_up(app, make_user, "reader1", href, event["id"], token_for)
    with app_context(app):
        assert db.session.scalar(db.select(Click.merchant_id)) is None
        assert attribution.ledger_sum(merchant.id) == 0
    assert _conversions(app, merchant.id) == []
    # The merchant accepts (API); only sign-ups from then on bill it.
    accepted = app.test_client().post(
        f"/api/v1/events/{event['id']}/sponsorship/accept", headers=token_for(merchant)
    )
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["sponsor"]["id"] == merchant.id
    second = _click_and_sign_up(app, make_user, "reader2", href, event["id"], token_for)
    assert _conversions(app, merchant.id) == [("event_signup", second.id)]
    assert first.id != second.id
    with app_context(app):
        assert attribution.ledger_sum(merchant.id) == 250


def test_only_the_merchant_asked_can_accept_or_decline(
    app, make_user, make_event, merchant, token_for, host
):
    other = make_user("othershop", role="merchant")
    event_id = make_event(sponsor_id=merchant.id)
    for who, status, code in (
        (other, 409, "no_sponsorship_request"),
        (host, 403, None),  # a member: the endpoint is for merchants
    ):
        for action in ("accept", "decline"):
            response = app.test_client().post(
                f"/api/v1/events/{event_id}/sponsorship/{action}", headers=token_for(who)
            )
            assert response.status_code == status
            if code:
                assert response.get_json()["error"]["code"] == code
    assert (
        app.test_client()
        .post("/api/v1/events/999/sponsorship/accept", headers=token_for(merchant))
        .status_code
        == 404
    )
    with app_context(app):
        event = db.session.get(Event, event_id)
        assert (event.sponsor_id, event.sponsor_request_id) == (None, merchant.id)
    listed = app.test_client().get("/api/v1/merchant/sponsorships", headers=token_for(merchant))
    assert [e["event_id"] for e in listed.get_json()["requests"]] == [event_id]
    assert listed.get_json()["sponsoring"] == []
    declined = app.test_client().post(
        f"/api/v1/events/{event_id}/sponsorship/decline", headers=token_for(merchant)
    )
    assert declined.status_code == 200 and declined.get_json()["sponsor"] is None
    with app_context(app):
        event = db.session.get(Event, event_id)
        assert (event.sponsor_id, event.sponsor_request_id) == (None, None)


def test_the_merchant_accepts_on_its_sponsorships_page(app, make_user, make_event, merchant):
    event_id = make_event(sponsor_id=merchant.id)
    browser = app.test_client()
    login(browser, merchant)
    page = browser.get("/merchant/sponsorships")
    assert page.status_code == 200 and b"Board-game night" in page.data
    assert b"Accept" in browser.get(f"/events/{event_id}").data
    response = browser.post(f"/events/{event_id}/sponsorship/accept", data={"back": "sponsorships"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/merchant/sponsorships"
    )
    with app_context(app):
        event = db.session.get(Event, event_id)
        assert event.paying_sponsor_id == merchant.id and event.sponsor_request_id is None
    assert b"Sponsored by kettleshop" in browser.get(f"/events/{event_id}").data
    member = app.test_client()
    login(member, make_user("nosy"))
    assert member.get("/merchant/sponsorships").status_code == 403


def test_an_ended_sponsorship_bills_nothing_for_later_sign_ups(
    app, make_user, make_thread, make_event, merchant, token_for, host
):
    event_id = make_event(sponsor_id=merchant.id, capacity=10)
    with app_context(app), app.test_request_context("/"):
        service.accept_sponsorship(
            db.session.get(User, merchant.id), db.session.get(Event, event_id)
        )
        db.session.commit()
    href = _card_href(app, make_thread, host, event_id)
    ended = app.test_client().delete(
        f"/api/v1/events/{event_id}/sponsorship", headers=token_for(merchant)
    )
    assert ended.status_code == 204
    again = app.test_client().delete(
        f"/api/v1/events/{event_id}/sponsorship", headers=token_for(merchant)
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_sponsored"
    _click_and_sign_up(app, make_user, "late", href, event_id, token_for)
    assert _conversions(app, merchant.id) == []


def test_a_merchant_hosting_its_own_event_sponsors_it_at_once(app, make_event, merchant):
    event_id = make_event(by=merchant, sponsor_id=merchant.id)
    with app_context(app):
        event = db.session.get(Event, event_id)
        assert event.paying_sponsor_id == merchant.id and event.sponsor_request_id is None


def test_a_host_changing_the_sponsor_only_asks_the_new_merchant(
    app, make_user, make_event, merchant, token_for, host
):
    other = make_user("othershop", role="merchant")
    event_id = make_event(sponsor_id=merchant.id)
    with app_context(app), app.test_request_context("/"):
        service.accept_sponsorship(
            db.session.get(User, merchant.id), db.session.get(Event, event_id)
        )
        db.session.commit()
    response = app.test_client().patch(
        f"/api/v1/events/{event_id}", json={"sponsor_id": other.id}, headers=token_for(host)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["sponsor"]["id"] == merchant.id  # still the one who accepted
    assert body["sponsor_request"]["merchant"]["id"] == other.id
    bad = app.test_client().patch(
        f"/api/v1/events/{event_id}", json={"sponsor_id": host.id}, headers=token_for(host)
    )
    assert bad.status_code == 422 and "sponsor_id" in bad.get_json()["error"]["fields"]
