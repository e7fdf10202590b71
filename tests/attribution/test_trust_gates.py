"""Commerce gates on earning (forum.trust): with the commission gate on, a TL0 author's
credit stays in the reports but earns nothing; with the referral gate on, a referred
member's sign-up CPA waits until they reach the level. Both off by default."""

from datetime import timedelta

from sqlalchemy import update

from forum.accounts.models import User
from forum.attribution import service
from forum.attribution.models import Credit
from forum.extensions import db
from tests.attribution.conftest import START, click, facts, ledger, set_rates, tracked_href
from tests.attribution.test_signups import register_after_click, signups, status_of
from tests.conftest import login


def test_commission_gate_holds_back_a_tl0_authors_commission(
    app, make_user, offers, post_with_offer, clock
):
    clock.at(START)
    merchant = make_user("shopkeeper", role="merchant")
    newcomer, regular, buyer = (
        make_user("newcomer", trust_level=0),
        make_user("regular", trust_level=2),
        make_user("buyer"),
    )
    offer = offers.add(merchant)
    href_new = tracked_href(app, post_with_offer(newcomer, offer, "New says"), offer)
    href_reg = tracked_href(app, post_with_offer(regular, offer, "Regular says"), offer)
    set_rates(app, merchant, cps_rate_bp=1000, model="linear")
    app.config["TRUST_GATE_COMMISSION_LEVEL"] = 1
    browser = app.test_client()
    login(browser, buyer)
    click(browser, href_new)
    clock.at(START + timedelta(days=1))
    click(browser, href_reg)
    paid = clock.at(START + timedelta(days=2))
    with app.app_context():
        conversion = service.record_order(facts(1, buyer, merchant, total=10_000, paid_at=paid))
        db.session.commit()
        authors = sorted(
            db.session.scalars(
                db.select(Credit.author_id).where(Credit.conversion_id == conversion.id)
            )
        )
    assert authors == sorted([newcomer.id, regular.id])  # both shown in the reports
    assert ledger(app, merchant)["by_author"] == {regular.id: 500}  # only the trusted one earns


def test_referral_gate_waits_for_the_referred_member_to_reach_the_level(
    app, make_user, offers, post_with_offer, clock, make_thread
):
    clock.at(START)
    merchant, author = make_user("shopkeeper", role="merchant"), make_user("writer")
    set_rates(app, merchant, cps_rate_bp=0, signup=200)
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    app.config["TRUST_GATE_REFERRAL_LEVEL"] = 1
    newbie = register_after_click(app, href, "newbie")
    make_thread(newbie, title="Hello, I am new", body="Glad to be here.")
    assert signups(app, merchant) == []  # a TL0 account's first act earns the referrer nothing
    assert status_of(app, newbie)[0] == "waiting"
    with app.app_context():
        db.session.execute(update(User).where(User.id == newbie.id).values(trust_level=1))
        db.session.commit()
    make_thread(newbie, title="Back again today", body="Still here.")
    assert signups(app, merchant) == [newbie.id]


def test_commission_gate_holds_back_a_tl0_authors_cpa_and_lifts_at_tl1(
    app, make_user, offers, post_with_offer, clock
):
    """CPA actions (event sign-ups, team joins) earn through the same gate as orders."""
    clock.at(START)
    merchant, newcomer = (
        make_user("shopkeeper", role="merchant"),
        make_user("newcomer", trust_level=0),
    )
    buyer = make_user("buyer")
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(newcomer, offer, "New says"), offer)
    set_rates(app, merchant, cps_rate_bp=0, event_signup=150, team_join=250)
    app.config["TRUST_GATE_COMMISSION_LEVEL"] = 1
    browser = app.test_client()
    login(browser, buyer)
    click(browser, href)
    clock.at(START + timedelta(hours=1))
    with app.app_context():
        for kind, key in (("event_signup", "signup:5"), ("team_join", "team:4:user:9")):
            service.record_action(kind, user_id=buyer.id, merchant_id=merchant.id, key=key)
        db.session.commit()
        credited = db.session.scalars(db.select(Credit.author_id)).all()
    assert credited == [newcomer.id, newcomer.id]  # the reports still show the author
    assert ledger(app, merchant)["by_author"] == {}  # but a TL0 author earns no CPA
    with app.app_context():
        db.session.execute(update(User).where(User.id == newcomer.id).values(trust_level=1))
        db.session.commit()
        service.record_action(
            "event_signup", user_id=buyer.id, merchant_id=merchant.id, key="signup:6"
        )
        db.session.commit()
    assert ledger(app, merchant)["by_author"] == {newcomer.id: 150}
