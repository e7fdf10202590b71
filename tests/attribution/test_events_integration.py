"""Events on main: an [[event:ID]] card is a tracked offer of its sponsor, and a sign-up that
follows a click is a CPA action credited to the post that led to it."""

from datetime import timedelta

import pytest

from forum import embeds
from forum.accounts.models import User
from forum.attribution import service
from forum.attribution.models import Click, Commission, Conversion, ImpressionCount
from forum.board.models import Post
from forum.clock import now
from forum.events import service as events
from forum.events.models import Event
from forum.extensions import db
from forum.markup import EmbedRef
from tests.attribution.conftest import BROWSER, click, set_rates
from tests.conftest import login


@pytest.fixture
def sponsored(app, make_user, make_thread):
    sponsor, host, author = (
        make_user("sponsor", role="merchant"),
        make_user("hostess"),
        make_user("writer"),
    )
    set_rates(app, sponsor, cps_rate_bp=0, event_signup=250)
    starts = now() + timedelta(days=3)
    with app.app_context(), app.test_request_context("/"):
        event = events.create_event(
            db.session.get(User, host.id),
            title="Tasting night",
            description="Come hungry.",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="Market hall",
            capacity=10,
            sponsor_id=sponsor.id,
        )
        # The host only asks; the merchant's acceptance is what makes it pay.
        events.accept_sponsorship(db.session.get(User, sponsor.id), event)
        plain = events.create_event(
            db.session.get(User, host.id),
            title="Unsponsored walk",
            description="",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            location="Park",
            capacity=10,
        )
        db.session.commit()
        event_id, plain_id = event.id, plain.id
    thread_id = make_thread(
        author,
        title="Who is going?",
        body=f"This looks fun:\n\n[[event:{event_id}]]\n\n[[event:{plain_id}]]",
    )
    with app.app_context(), app.test_request_context("/"):
        post = db.session.scalar(db.select(Post).where(Post.thread_id == thread_id))
        context = embeds.EmbedContext("post", post.id, post.author_id)
        hrefs = {
            ident: embeds.href(EmbedRef("event", ident), context) for ident in (event_id, plain_id)
        }
    return {
        "sponsor": sponsor,
        "author": author,
        "event": event_id,
        "plain": plain_id,
        "thread": thread_id,
        "hrefs": hrefs,
        "post": post.id,
    }


def _sign_up(app, user, event_id):
    with app.app_context(), app.test_request_context("/"):
        events.sign_up(db.session.get(User, user.id), db.session.get(Event, event_id))
        db.session.commit()


def test_a_sign_up_after_a_click_pays_the_sponsor_cpa_to_the_post(app, make_user, sponsored):
    reader = make_user("reader")
    browser = app.test_client()
    login(browser, reader)
    page = browser.get(f"/t/{sponsored['thread']}", headers=BROWSER).get_data(as_text=True)
    assert sponsored["hrefs"][sponsored["event"]] in page
    response = click(browser, sponsored["hrefs"][sponsored["event"]])
    assert response.headers["Location"] == f"/events/{sponsored['event']}"
    _sign_up(app, reader, sponsored["event"])
    with app.app_context():
        click_row = db.session.scalar(db.select(Click))
        assert (click_row.embed_kind, click_row.merchant_id) == ("event", sponsored["sponsor"].id)
        conversion = db.session.scalar(db.select(Conversion))
        assert (conversion.kind, conversion.merchant_id, conversion.customer_id) == (
            "event_signup",
            sponsored["sponsor"].id,
            reader.id,
        )
        assert [c.author_id for c in conversion.credits] == [sponsored["author"].id]
        assert service.ledger_sum(sponsored["sponsor"].id) == 250
        impressions = {
            r.embed_id: r.merchant_id for r in db.session.scalars(db.select(ImpressionCount))
        }
        assert impressions == {
            sponsored["event"]: sponsored["sponsor"].id,
            sponsored["plain"]: None,
        }
    # Cancelling takes the CPA back; signing up again (still within the window) earns it
    # again: net, the sponsor pays for one sign-up.
    with app.app_context(), app.test_request_context("/"):
        events.cancel_signup(
            db.session.get(User, reader.id), db.session.get(Event, sponsored["event"])
        )
        db.session.commit()
    with app.app_context():
        assert service.ledger_sum(sponsored["sponsor"].id) == 0
        assert [(c.kind, c.amount_cents) for c in db.session.scalars(db.select(Commission))] == [
            ("earned", 250),
            ("reversal", -250),
        ]
    _sign_up(app, reader, sponsored["event"])
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Conversion)) == 2
        assert service.ledger_sum(sponsored["sponsor"].id) == 250


def test_unsponsored_events_and_the_sponsor_themself_pay_nothing(app, make_user, sponsored):
    reader = make_user("reader")
    browser = app.test_client()
    login(browser, reader)
    click(browser, sponsored["hrefs"][sponsored["plain"]])
    _sign_up(app, reader, sponsored["plain"])
    _sign_up(app, sponsored["sponsor"], sponsored["event"])
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Conversion)) == 0


def test_a_sign_up_without_a_click_is_direct(app, make_user, sponsored):
    reader = make_user("reader")
    _sign_up(app, reader, sponsored["event"])
    with app.app_context():
        conversion = db.session.scalar(db.select(Conversion))
        assert conversion.direct and conversion.credits == []
        assert service.ledger_sum(sponsored["sponsor"].id) == 0


def test_the_report_names_the_event(app, make_user, sponsored, token_for):
    reader = make_user("reader")
    browser = app.test_client()
    login(browser, reader)
    click(browser, sponsored["hrefs"][sponsored["event"]])
    _sign_up(app, reader, sponsored["event"])
    report = (
        app.test_client()
        .get("/api/v1/merchant/attribution?group_by=offer", headers=token_for(sponsored["sponsor"]))
        .get_json()
    )
    [row] = report["items"]
    assert row["label"] == "Tasting night" and row["key"] == f"event:{sponsored['event']}"
    assert (row["clicks"], row["actions"], row["commission_cents"]) == (1, 1, 250)
