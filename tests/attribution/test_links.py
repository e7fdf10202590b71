"""Tracked links: the /go/ redirect, the click log, the cookie, dedupe, tampering, claiming."""

from datetime import timedelta

from itsdangerous import URLSafeSerializer

from forum.accounts.models import User
from forum.attribution import links, service
from forum.attribution.models import Click, Conversion
from forum.extensions import db
from tests.attribution.conftest import (
    BROWSER,
    START,
    TOUCH,
    click,
    facts,
    set_rates,
    tracked_href,
)
from tests.conftest import login


def clicks(app):
    with app.app_context():
        return db.session.scalars(db.select(Click).order_by(Click.id)).all()


def test_widget_in_a_post_links_through_a_signed_go_link(
    app, client, make_user, offers, post_with_offer
):
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    offer = offers.add(merchant)
    post_id = post_with_offer(author, offer)
    page = client.get("/t/1").get_data(as_text=True)
    href = tracked_href(app, post_id, offer)
    assert href.startswith("/go/") and f'href="{href}"' in page
    # The API's embeds list carries the same link.
    thread = client.get("/api/v1/threads/1").get_json()
    assert thread["posts"]["items"][0]["embeds"] == [{"kind": "product", "id": offer, "href": href}]

    response = click(client, href)
    assert response.headers["Location"] == f"/?offer={offer}"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{links.COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and f"Max-Age={7 * 86400}" in cookie
    [row] = clicks(app)
    assert (row.source_kind, row.source_id, row.author_id) == ("post", post_id, author.id)
    assert (row.embed_kind, row.embed_id, row.merchant_id) == ("product", offer, merchant.id)
    assert row.user_id is None and len(row.visitor_id) == 32 and not row.is_self
    assert len(row.ip_hash) == 32 and row.ip_hash != "127.0.0.1"


def test_window_setting_sets_the_cookie_lifetime(app, make_user, offers, post_with_offer):
    app.config["ATTRIBUTION_WINDOW_DAYS"] = 3
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    response = click(app.test_client(), href)
    assert f"Max-Age={3 * 86400}" in response.headers["Set-Cookie"]


def test_preview_and_unavailable_offers_are_not_tracked(
    app, member_client, make_user, offers, post_with_offer
):
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    offer = offers.add(merchant)
    preview = member_client.post("/preview", data={"body": f"[[product:{offer}]]"}).get_json()[
        "html"
    ]
    assert f'href="/?offer={offer}"' in preview and "/go/" not in preview
    post_id = post_with_offer(author, 999)  # no such offer
    assert tracked_href(app, post_id, 999) == "/offer-unavailable"


def test_tampered_or_malformed_tokens_record_nothing(
    app, client, make_user, offers, post_with_offer
):
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    token = href.removeprefix("/go/")
    payload, _, signature = token.rpartition(".")
    with app.test_request_context("/"):
        forged_author = URLSafeSerializer("test-secret", salt=links.LINK_SALT).dumps(
            ["p", 1, 999, "product", offer, f"/?offer={offer}"]
        )
        other_key = URLSafeSerializer("not-our-secret", salt=links.LINK_SALT).dumps(
            ["p", 1, author.id, "product", offer, f"/?offer={offer}"]
        )
        absolute = URLSafeSerializer("test-secret", salt=links.LINK_SALT).dumps(
            ["p", 1, author.id, "product", offer, "https://evil.example/"]
        )
        wrong_shape = URLSafeSerializer("test-secret", salt=links.LINK_SALT).dumps({"p": 1})
        wrong_salt = URLSafeSerializer("test-secret", salt="another").dumps(
            ["p", 1, author.id, "product", offer, f"/?offer={offer}"]
        )
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature
    bad = [
        flipped,  # payload changed, signature kept
        payload + "." + signature[:-2] + "xx",  # signature changed
        forged_author.rpartition(".")[0]
        + "."
        + signature,  # someone else's payload with our signature
        other_key,
        wrong_salt,
        "not-a-token",
        "x" * 3000,
        ".",
        "%E2%80%AE",
    ]
    for token_text in bad:
        response = client.get(f"/go/{token_text}", headers=BROWSER)
        assert response.status_code == 302, token_text
        assert response.headers["Location"] == "/offer-unavailable", token_text
        assert links.COOKIE_NAME not in response.headers.get("Set-Cookie", "")
    # Correctly signed but unsafe or odd payloads are refused too.
    for token_text in (absolute, wrong_shape):
        response = client.get(f"/go/{token_text}", headers=BROWSER)
        assert response.headers["Location"] == "/offer-unavailable"
    # A NUL is refused at the door for every path (400), and records nothing either.
    assert client.get("/go/%00", headers=BROWSER).status_code == 400
    assert clicks(app) == []
    # And the genuine link still works.
    assert click(client, href).headers["Location"] == f"/?offer={offer}"
    assert len(clicks(app)) == 1


def test_rapid_repeat_clicks_count_once(app, client, make_user, offers, post_with_offer, clock):
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    offer = offers.add(merchant)
    post_id = post_with_offer(author, offer)
    href = tracked_href(app, post_id, offer)
    clock.at(START)
    for _ in range(3):
        click(client, href)
    clock.at(START + timedelta(seconds=20))
    click(client, href)
    assert len(clicks(app)) == 1
    clock.at(START + timedelta(seconds=61))
    click(client, href)
    assert len(clicks(app)) == 2
    # Another visitor is another click, at once.
    click(app.test_client(), href)
    assert len(clicks(app)) == 3
    # The same visitor on another post's link is another click too.
    other_post = post_with_offer(author, offer, text="Second thread")
    click(client, tracked_href(app, other_post, offer))
    assert len(clicks(app)) == 4
    visitors = {row.visitor_id for row in clicks(app)}
    assert len(visitors) == 2


def test_logged_in_repeats_dedupe_by_account(app, make_user, offers, post_with_offer):
    merchant, author, reader = (
        make_user("shopkeeper", role="merchant"),
        make_user("writer"),
        make_user("reader"),
    )
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    first, second = app.test_client(), app.test_client()  # two devices, one account
    login(first, reader)
    login(second, reader)
    click(first, href)
    click(second, href)
    [row] = clicks(app)
    assert row.user_id == reader.id


def test_bots_are_redirected_but_not_counted(app, client, make_user, offers, post_with_offer):
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    for agent in (
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "",
        "facebookexternalhit/1.1",
        "curl/8.5",
    ):
        response = client.get(href, headers={"User-Agent": agent})
        assert response.status_code == 302 and response.headers["Location"] == f"/?offer={offer}"
        assert "Set-Cookie" not in response.headers
    assert clicks(app) == []


def test_self_clicks_are_recorded_but_never_earn(app, make_user, offers, post_with_offer, clock):
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    set_rates(app, merchant, cps_rate_bp=1000)
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    clock.at(START)
    own = app.test_client()
    login(own, author)
    click(own, href)
    [row] = clicks(app)
    assert row.is_self and row.user_id == author.id
    clock.at(START + timedelta(hours=1))
    with app.app_context():
        conversion = service.record_order(
            facts(1, author, merchant, paid_at=START + timedelta(hours=1))
        )
        db.session.commit()
        [credit] = conversion.credits
        assert credit.self_referral and not conversion.direct
        assert service.ledger_sum(merchant.id) == 0


def test_anonymous_click_then_registration_is_credited(
    app, make_user, offers, post_with_offer, clock
):
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    set_rates(app, merchant, cps_rate_bp=500, signup=200)
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    clock.at(START)
    browser = app.test_client()
    click(browser, href)
    clock.at(START + timedelta(days=2))
    response = browser.post(
        "/register",
        data={
            "username": "newbie",
            "email": "newbie@example.com",
            "password": "long enough passphrase",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        newbie = db.session.scalar(db.select(User).where(User.username == "newbie"))
        [row] = db.session.scalars(db.select(Click)).all()
        assert row.user_id == newbie.id
        # The sign-up converts once the account acts like a person (here: a paid order).
        assert service.ledger_sum(merchant.id) == 0
        assert service.on_person_activity(newbie.id, "order") == "converted"
        db.session.commit()
        signup = db.session.scalar(db.select(Conversion).where(Conversion.kind == "signup"))
        assert signup.customer_id == newbie.id and signup.merchant_id == merchant.id
        assert [c.author_id for c in signup.credits] == [author.id]
        assert service.ledger_sum(merchant.id) == 200
        # ...and the purchase that follows is credited to the same post.
        conversion = service.record_order(
            facts(7, newbie, merchant, total=8_000, paid_at=START + timedelta(days=3))
        )
        db.session.commit()
        assert [c.author_id for c in conversion.credits] == [author.id]
        assert service.ledger_sum(merchant.id) == 200 + 400


def test_anonymous_clicks_follow_the_visitor_into_their_login(
    app, make_user, offers, post_with_offer, clock
):
    merchant, author, reader = (
        make_user("shopkeeper", role="merchant"),
        make_user("writer"),
        make_user("reader"),
    )
    set_rates(app, merchant, cps_rate_bp=1000)
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    clock.at(START)
    browser = app.test_client()
    click(browser, href)
    login(browser, reader)
    with app.app_context():
        [row] = db.session.scalars(db.select(Click)).all()
        assert row.user_id == reader.id
        service.record_order(
            facts(3, reader, merchant, total=5_000, paid_at=START + timedelta(hours=2))
        )
        db.session.commit()
        assert service.ledger_sum(merchant.id) == 500


def test_clicks_older_than_the_window_are_not_claimed(
    app, make_user, offers, post_with_offer, clock
):
    merchant, author, reader = (
        make_user("shopkeeper", role="merchant"),
        make_user("writer"),
        make_user("reader"),
    )
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    clock.at(START)
    browser = app.test_client()
    response = click(browser, href)
    cookie_value = response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    clock.at(START + timedelta(days=8))
    browser.set_cookie(links.COOKIE_NAME, cookie_value)  # a browser that kept it anyway
    login(browser, reader)
    [row] = clicks(app)
    assert row.user_id is None


def test_a_forged_visitor_cookie_claims_nothing(app, make_user, offers, post_with_offer):
    merchant, author, reader = (
        make_user("shopkeeper", role="merchant"),
        make_user("writer"),
        make_user("reader"),
    )
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    victim = app.test_client()
    click(victim, href)
    [row] = clicks(app)
    attacker = app.test_client()
    attacker.set_cookie(links.COOKIE_NAME, row.visitor_id)  # the raw id, unsigned
    login(attacker, reader)
    assert clicks(app)[0].user_id is None


def test_cross_site_requests_are_not_recorded(app, client, make_user, offers, post_with_offer):
    """Another site sending readers through our links (cookie stuffing) earns nothing."""
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    response = client.get(href, headers={**BROWSER, "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 302 and response.headers["Location"] == f"/?offer={offer}"
    assert "Set-Cookie" not in response.headers
    assert clicks(app) == []
    for origin in ("same-origin", "same-site", "none"):  # our pages, a subdomain, a typed URL
        app.test_client().get(href, headers={**BROWSER, "Sec-Fetch-Site": origin})
    assert len(clicks(app)) == 3


def test_widgets_acting_in_place_record_their_touch(app, make_user, offers, post_with_offer):
    merchant, author, reader = (
        make_user("shopkeeper", role="merchant"),
        make_user("writer"),
        make_user("reader"),
    )
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    browser = app.test_client()
    login(browser, reader)
    response = browser.post(href, headers=TOUCH)
    assert response.status_code == 200 and response.get_json() == {"recorded": True}
    assert links.COOKIE_NAME in response.headers["Set-Cookie"]
    [row] = clicks(app)
    assert row.user_id == reader.id and row.source_id == 1
    assert browser.post("/go/forged", headers=TOUCH).status_code == 404
    assert len(clicks(app)) == 1


IMAGE_LOADS = [
    {"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Mode": "no-cors"},
    # An older browser that sends no Sec-Fetch-* headers, loading <img src>.
    {"Accept": "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"},
]


def test_an_image_of_a_go_link_in_a_post_records_no_click_for_its_author(
    app, make_user, offers, post_with_offer
):
    """``![](/go/<token>)`` makes every viewer's browser load the link as a sub-resource:
    no click, no cookie, so the viewer's later purchases are not credited to it."""
    merchant, author, viewer = (
        make_user("shopkeeper", role="merchant"),
        make_user("stuffer"),
        make_user("viewer"),
    )
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    browser = app.test_client()
    login(browser, viewer)
    for headers in IMAGE_LOADS:
        response = browser.get(href, headers={**BROWSER, **headers})
        assert response.status_code == 302
        assert links.COOKIE_NAME not in response.headers.get("Set-Cookie", "")
    assert clicks(app) == []


def test_a_top_level_navigation_of_a_go_link_is_a_click(app, make_user, offers, post_with_offer):
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    navigation = {
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Site": "same-origin",
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
    }
    response = app.test_client().get(href, headers={**BROWSER, **navigation})
    assert links.COOKIE_NAME in response.headers["Set-Cookie"]
    assert len(clicks(app)) == 1


def test_an_in_place_touch_counts_only_with_our_scripts_signal(
    app, make_user, offers, post_with_offer
):
    """A POST of a /go/ link without X-Plaza-Touch and the CSRF header (a form, a
    navigation, a beacon) records nothing; the touch Plaza.touch sends does."""
    merchant, author, reader = (
        make_user("shopkeeper", role="merchant"),
        make_user("writer"),
        make_user("reader"),
    )
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    browser = app.test_client()
    login(browser, reader)
    refused = [
        BROWSER,
        {**TOUCH, "X-Plaza-Touch": "0"},
        {k: v for k, v in TOUCH.items() if k != "X-CSRFToken"},
        {**TOUCH, "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
        {**TOUCH, "Sec-Fetch-Mode": "no-cors"},
        {**TOUCH, "Sec-Fetch-Site": "same-site"},
    ]
    for headers in refused:
        response = browser.post(href, headers=headers)
        assert response.status_code == 200 and response.get_json() == {"recorded": False}
    assert clicks(app) == []
    assert browser.post(href, headers=TOUCH).get_json() == {"recorded": True}
    assert len(clicks(app)) == 1


def test_an_offer_whose_owner_is_not_a_merchant_bills_nobody(
    app, make_user, offers, post_with_offer
):
    """service.payer is the one rule for every offer kind: the owner must be a merchant."""
    member, author, reader = make_user("notashop"), make_user("writer"), make_user("reader")
    offer = offers.add(member)  # an offer whose "owner" never agreed to pay anything
    href = tracked_href(app, post_with_offer(author, offer), offer)
    browser = app.test_client()
    login(browser, reader)
    click(browser, href)
    [row] = clicks(app)
    assert row.merchant_id is None
    with app.app_context():
        assert service.payer("product", offers.items[offer]) is None
        assert service.payer("nosuchkind", offers.items[offer]) is None
