"""Conversions and commission, with a controlled clock: credit models, window, self-referral,
duplicates (also concurrent), refunds, the lock period, rewards and payouts."""

import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest

from forum.accounts.models import User
from forum.attribution import service
from forum.attribution.models import Commission, Conversion, Credit
from forum.errors import Conflict, Forbidden, NotFound, ValidationFailed
from forum.extensions import db
from forum.members import service as members
from tests.attribution.conftest import START, click, facts, ledger, set_rates, tracked_href
from tests.conftest import login


@dataclass
class Scene:
    merchant: object
    alice: object  # author of post A
    bob: object  # author of post B
    buyer: object
    offer: int
    post_a: int
    post_b: int
    href_a: str
    href_b: str
    browser: object  # the buyer, logged in


@pytest.fixture
def scene(app, make_user, offers, post_with_offer, clock):
    clock.at(START)
    merchant = make_user("shopkeeper", role="merchant")
    alice, bob, buyer = make_user("alice"), make_user("bob"), make_user("buyer")
    offer = offers.add(merchant)
    post_a, post_b = post_with_offer(alice, offer, "A says"), post_with_offer(bob, offer, "B says")
    browser = app.test_client()
    login(browser, buyer)
    return Scene(
        merchant,
        alice,
        bob,
        buyer,
        offer,
        post_a,
        post_b,
        tracked_href(app, post_a, offer),
        tracked_href(app, post_b, offer),
        browser,
    )


def two_post_journey(app, scene, clock):
    """The buyer reads A on day 0, B on day 2, buys on day 3 (100.00)."""
    clock.at(START)
    click(scene.browser, scene.href_a)
    clock.at(START + timedelta(days=2))
    click(scene.browser, scene.href_b)
    paid = clock.at(START + timedelta(days=3))
    with app.app_context():
        conversion = service.record_order(
            facts(1, scene.buyer, scene.merchant, total=10_000, paid_at=paid)
        )
        db.session.commit()
        return conversion.id


def credits_of(app, conversion_id):
    with app.app_context():
        return [
            (c.author_id, c.weight_bp, c.revenue_cents)
            for c in db.session.scalars(
                db.select(Credit).where(Credit.conversion_id == conversion_id).order_by(Credit.id)
            )
        ]


def test_last_touch_credits_the_post_read_last(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000, model="last")
    conversion_id = two_post_journey(app, scene, clock)
    assert credits_of(app, conversion_id) == [(scene.bob.id, 10_000, 10_000)]
    assert ledger(app, scene.merchant)["by_author"] == {scene.bob.id: 1_000}


def test_first_touch_credits_the_post_that_introduced_it(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000, model="first")
    conversion_id = two_post_journey(app, scene, clock)
    assert credits_of(app, conversion_id) == [(scene.alice.id, 10_000, 10_000)]
    assert ledger(app, scene.merchant)["by_author"] == {scene.alice.id: 1_000}


def test_linear_splits_exactly_between_the_posts(app, scene, clock):
    set_rates(
        app, scene.merchant, cps_rate_bp=1001, model="linear"
    )  # 10.01% of 100.00 = 10.01, odd cents
    conversion_id = two_post_journey(app, scene, clock)
    assert credits_of(app, conversion_id) == [
        (scene.alice.id, 5_000, 5_000),
        (scene.bob.id, 5_000, 5_000),
    ]
    book = ledger(app, scene.merchant)
    assert book["by_author"] == {scene.alice.id: 501, scene.bob.id: 500}
    assert book["net_cents"] == 1_001
    with app.app_context():
        assert db.session.get(Conversion, conversion_id).commission_cents == 1_001


def test_linear_counts_each_source_once(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000, model="linear")
    clock.at(START)
    click(scene.browser, scene.href_a)
    clock.at(START + timedelta(hours=5))
    click(scene.browser, scene.href_a)  # A again, later
    clock.at(START + timedelta(hours=6))
    click(scene.browser, scene.href_b)
    with app.app_context():
        conversion = service.record_order(
            facts(2, scene.buyer, scene.merchant, total=9_000, paid_at=START + timedelta(hours=7))
        )
        db.session.commit()
        assert sorted(c.weight_bp for c in conversion.credits) == [5_000, 5_000]
    assert ledger(app, scene.merchant)["by_author"] == {scene.alice.id: 450, scene.bob.id: 450}


def test_the_model_is_per_merchant(app, scene, clock, make_user, offers, post_with_offer):
    other = make_user("othershop", role="merchant")
    set_rates(app, scene.merchant, cps_rate_bp=1000, model="first")
    set_rates(app, other, cps_rate_bp=1000, model="last")
    other_offer = offers.add(other)
    other_a = tracked_href(app, post_with_offer(scene.alice, other_offer, "A again"), other_offer)
    other_b = tracked_href(app, post_with_offer(scene.bob, other_offer, "B again"), other_offer)
    clock.at(START)
    click(scene.browser, scene.href_a)
    click(scene.browser, other_a)
    clock.at(START + timedelta(days=1))
    click(scene.browser, scene.href_b)
    click(scene.browser, other_b)
    with app.app_context():
        service.record_order(
            facts(1, scene.buyer, scene.merchant, paid_at=START + timedelta(days=2))
        )
        service.record_order(facts(2, scene.buyer, other, paid_at=START + timedelta(days=2)))
        db.session.commit()
    assert ledger(app, scene.merchant)["by_author"] == {scene.alice.id: 1_000}
    assert ledger(app, other)["by_author"] == {scene.bob.id: 1_000}


def test_touches_on_another_merchants_offer_do_not_count(app, scene, clock, make_user):
    other = make_user("othershop", role="merchant")
    set_rates(app, other, cps_rate_bp=1000)
    clock.at(START)
    click(scene.browser, scene.href_a)  # an offer of scene.merchant
    with app.app_context():
        conversion = service.record_order(
            facts(1, scene.buyer, other, paid_at=START + timedelta(hours=1))
        )
        db.session.commit()
        assert conversion.direct and conversion.credits == []
    assert ledger(app, other)["net_cents"] == 0


def test_a_touch_outside_the_window_leaves_the_order_direct(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    clock.at(START)
    click(scene.browser, scene.href_a)
    with app.app_context():
        late = service.record_order(
            facts(1, scene.buyer, scene.merchant, paid_at=START + timedelta(days=7, seconds=1))
        )
        just_in_time = service.record_order(
            facts(2, scene.buyer, scene.merchant, paid_at=START + timedelta(days=7))
        )
        db.session.commit()
        assert late.direct and late.credits == []
        assert not just_in_time.direct and [c.author_id for c in just_in_time.credits] == [
            scene.alice.id
        ]
    assert ledger(app, scene.merchant)["net_cents"] == 1_000


def test_a_click_after_the_order_is_not_a_touch_for_it(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    clock.at(START + timedelta(days=1))
    click(scene.browser, scene.href_a)
    with app.app_context():
        conversion = service.record_order(facts(1, scene.buyer, scene.merchant, paid_at=START))
        db.session.commit()
        assert conversion.direct


def test_self_referral_earns_nothing(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000, model="linear")
    author_browser = app.test_client()
    login(author_browser, scene.alice)
    clock.at(START)
    click(author_browser, scene.href_a)  # Alice through her own post
    click(author_browser, scene.href_b)  # and Bob's
    with app.app_context():
        conversion = service.record_order(
            facts(1, scene.alice, scene.merchant, paid_at=START + timedelta(hours=1))
        )
        db.session.commit()
        shares = {c.author_id: c.self_referral for c in conversion.credits}
        assert shares == {scene.alice.id: True, scene.bob.id: False}
    assert ledger(app, scene.merchant)["by_author"] == {scene.bob.id: 500}


def test_a_merchants_own_post_earns_nothing(app, scene, clock, post_with_offer):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    own_post = post_with_offer(scene.merchant, scene.offer, "Our new kettle")
    clock.at(START)
    click(scene.browser, tracked_href(app, own_post, scene.offer))
    with app.app_context():
        conversion = service.record_order(
            facts(1, scene.buyer, scene.merchant, paid_at=START + timedelta(hours=1))
        )
        db.session.commit()
        assert [c.self_referral for c in conversion.credits] == [True]
    assert ledger(app, scene.merchant)["net_cents"] == 0


def test_the_same_order_event_twice_is_credited_once(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    clock.at(START)
    click(scene.browser, scene.href_a)
    paid = START + timedelta(hours=1)
    with app.app_context():
        first = service.record_order(facts(1, scene.buyer, scene.merchant, paid_at=paid))
        again = service.record_order(facts(1, scene.buyer, scene.merchant, paid_at=paid))
        shipped = service.on_order_status(
            facts(1, scene.buyer, scene.merchant, status="shipped", paid_at=paid)
        )
        db.session.commit()
        assert first.id == again.id == shipped.id
    book = ledger(app, scene.merchant)
    # The order and the buyer's first purchase with this merchant.
    assert (book["conversions"], book["credits"], book["rows"], book["net_cents"]) == (
        2,
        2,
        1,
        1_000,
    )


def test_an_unpaid_order_is_not_a_conversion(app, scene):
    with app.app_context():
        assert service.record_order(facts(1, scene.buyer, scene.merchant, status="pending")) is None
        assert (
            service.on_order_status(facts(1, scene.buyer, scene.merchant, status="cancelled"))
            is None
        )
        db.session.commit()
    assert ledger(app, scene.merchant)["conversions"] == 0


@pytest.mark.parametrize("workers", [2, 6])
def test_concurrent_deliveries_of_one_order_event_make_one_conversion(app, scene, clock, workers):
    """Each thread has its own session and connection and commits; the UNIQUE key decides."""
    set_rates(app, scene.merchant, cps_rate_bp=1000, first_purchase=300)
    clock.at(START)
    click(scene.browser, scene.href_a)
    paid = START + timedelta(hours=1)
    barrier = threading.Barrier(workers)
    errors = []

    def deliver():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                service.record_order(facts(42, scene.buyer, scene.merchant, paid_at=paid))
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        kinds = sorted(db.session.scalars(db.select(Conversion.kind)).all())
        assert kinds == ["first_purchase", "order"]
    book = ledger(app, scene.merchant)
    assert (book["credits"], book["rows"], book["net_cents"]) == (2, 2, 1_000 + 300)


def test_a_refund_before_payout_reverses_with_a_negative_row(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000, first_purchase=300)
    clock.at(START)
    click(scene.browser, scene.href_a)
    paid = START + timedelta(hours=1)
    refunded = START + timedelta(days=2)
    with app.app_context():
        service.record_order(facts(1, scene.buyer, scene.merchant, paid_at=paid))
        db.session.commit()
        assert service.ledger_sum(scene.merchant.id) == 1_300
        clock.at(refunded)
        conversion = service.on_order_status(
            facts(
                1,
                scene.buyer,
                scene.merchant,
                status="refunded",
                paid_at=paid,
                refunded_at=refunded,
            )
        )
        service.on_order_status(  # delivered twice
            facts(
                1,
                scene.buyer,
                scene.merchant,
                status="refunded",
                paid_at=paid,
                refunded_at=refunded,
            )
        )
        service.on_order_status(
            facts(1, scene.buyer, scene.merchant, status="paid", paid_at=paid)
        )  # a stale event
        db.session.commit()
        rows = db.session.scalars(db.select(Commission).order_by(Commission.id)).all()
        assert [(r.kind, r.amount_cents, r.status) for r in rows] == [
            ("earned", 1_000, "reversed"),
            ("earned", 300, "reversed"),
            ("reversal", -1_000, "reversed"),
            ("reversal", -300, "reversed"),
        ]
        assert rows[2].reverses_id == rows[0].id
        assert conversion.order_status == "refunded" and conversion.reversed_at == refunded
        assert service.ledger_sum(scene.merchant.id) == 0
        # Nothing is left to approve or pay.
        clock.at(refunded + timedelta(days=60))
        assert service.approve_due() == 0
        with pytest.raises(Conflict):
            service.pay_out(db.session.get(User, _admin(app).id), scene.merchant.id)


def test_a_cancellation_reverses_too(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    clock.at(START)
    click(scene.browser, scene.href_a)
    with app.app_context():
        service.record_order(
            facts(1, scene.buyer, scene.merchant, status="cancelled", paid_at=START)
        )
        db.session.commit()
        assert service.ledger_sum(scene.merchant.id) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(Commission)) == 2


_admins = {}


def _admin(app):
    from tests.conftest import UserFactory

    if app not in _admins:
        _admins[app] = UserFactory(app)("payadmin", role="admin")
    return _admins[app]


def test_commission_is_approved_only_after_the_lock_period(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    app.config["ATTRIBUTION_AUTHOR_SHARE_BP"] = 4000
    clock.at(START)
    click(scene.browser, scene.href_a)
    paid, completed = START + timedelta(hours=1), START + timedelta(days=5)
    with app.app_context(), app.test_request_context("/"):
        service.record_order(facts(1, scene.buyer, scene.merchant, paid_at=paid))
        db.session.commit()
        clock.at(START + timedelta(days=40))
        assert service.approve_due() == 0  # shipped, never completed: stays pending
        service.on_order_status(
            facts(
                1,
                scene.buyer,
                scene.merchant,
                status="completed",
                paid_at=paid,
                completed_at=completed,
            )
        )
        db.session.commit()
        clock.at(completed + timedelta(days=14) - timedelta(seconds=1))
        # (time went back: the lock counts from completion, not from now)
        assert service.approve_due() == 0
        earned = db.session.scalar(db.select(Commission))
        assert service.effective_status(earned) == "pending"
        clock.at(completed + timedelta(days=14))
        assert service.effective_status(earned) == "approved"  # readers need not wait for the job
        assert service.approve_due() == 1
        assert service.approve_due() == 0
        db.session.commit()
        db.session.refresh(earned)
        assert (earned.status, earned.reward_cents) == ("approved", 400)
        assert members.balance(scene.alice.id, "credit") == 400
        # A reward is credited once even if the job's work is replayed.
        assert (
            members.post(
                scene.alice.id, "credit", 400, "post_earnings", key=f"attr-reward:{earned.id}"
            )
            is False
        )


def test_payout_marks_approved_commission_paid_and_refunds_after_it_change_nothing(
    app, scene, clock
):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    admin = _admin(app)
    clock.at(START)
    click(scene.browser, scene.href_a)
    paid, completed = START + timedelta(hours=1), START + timedelta(days=1)
    with app.app_context(), app.test_request_context("/"):
        service.record_order(
            facts(
                1,
                scene.buyer,
                scene.merchant,
                status="completed",
                paid_at=paid,
                completed_at=completed,
            )
        )
        db.session.commit()
        with pytest.raises(Forbidden):
            service.pay_out(db.session.get(User, scene.merchant.id), scene.merchant.id)
        with pytest.raises(Conflict):  # still locked
            service.pay_out(db.session.get(User, admin.id), scene.merchant.id)
        with pytest.raises(NotFound):
            service.pay_out(db.session.get(User, admin.id), 9999)
        clock.at(completed + timedelta(days=15))
        [payout] = service.pay_out(db.session.get(User, admin.id), scene.merchant.id)
        db.session.commit()
        assert (payout.total_cents, payout.entries, payout.currency) == (1_000, 1, "USD")
        earned = db.session.scalar(db.select(Commission))
        assert (earned.status, earned.payout_id) == ("paid", payout.id)
        # A refund after payout cannot take back what was paid.
        service.on_order_status(
            facts(
                1,
                scene.buyer,
                scene.merchant,
                status="refunded",
                paid_at=paid,
                completed_at=completed,
                refunded_at=clock.at(completed + timedelta(days=16)),
            )
        )
        db.session.commit()
        assert service.ledger_sum(scene.merchant.id) == 1_000
        assert db.session.scalar(db.select(Conversion)).order_status == "refunded"


def test_refund_after_approval_takes_the_authors_credit_back(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    clock.at(START)
    click(scene.browser, scene.href_a)
    paid, completed = START + timedelta(hours=1), START + timedelta(days=1)
    with app.app_context(), app.test_request_context("/"):
        service.record_order(
            facts(
                1,
                scene.buyer,
                scene.merchant,
                status="completed",
                paid_at=paid,
                completed_at=completed,
            )
        )
        clock.at(completed + timedelta(days=14))
        assert service.approve_due() == 1
        db.session.commit()
        assert members.balance(scene.alice.id, "credit") == 500  # default share: half
        members.post(scene.alice.id, "credit", -300, "spent")  # she already spent some
        service.on_order_status(
            facts(
                1,
                scene.buyer,
                scene.merchant,
                status="refunded",
                paid_at=paid,
                completed_at=completed,
                refunded_at=now_plus(clock, completed, 15),
            )
        )
        db.session.commit()
        assert members.balance(scene.alice.id, "credit") == 0  # never negative
        assert service.ledger_sum(scene.merchant.id) == 0


def now_plus(clock, base, days):
    return clock.at(base + timedelta(days=days))


def test_cpa_actions_are_recorded_once_per_key_and_credited(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=0, event_signup=150, team_join=250)
    clock.at(START)
    click(scene.browser, scene.href_a)
    with app.app_context():
        first = service.record_action(
            "event_signup",
            user_id=scene.buyer.id,
            merchant_id=scene.merchant.id,
            key="signup:5",
            occurred_at=START + timedelta(hours=1),
        )
        again = service.record_action(
            "event_signup", user_id=scene.buyer.id, merchant_id=scene.merchant.id, key="signup:5"
        )
        team = service.record_action(
            "team_join", user_id=scene.buyer.id, merchant_id=scene.merchant.id, key="team:3:user:9"
        )
        db.session.commit()
        assert first.id == again.id and first.key == "event_signup:signup:5"
        assert [c.author_id for c in first.credits] == [scene.alice.id]
        assert service.ledger_sum(scene.merchant.id) == 400
        # A failed team gives its CPA back.
        assert service.reverse_action("team_join", "team:3:user:9") == 1
        assert service.reverse_action("team_join", "team:3:user:9") == 0
        assert service.reverse_action("team_join", "no-such-key") == 0
        db.session.commit()
        assert service.ledger_sum(scene.merchant.id) == 150
        # CPA commission unlocks a lock period after the action.
        earned = db.session.scalar(
            db.select(Commission).where(Commission.conversion_id == first.id)
        )
        assert earned.approvable_at == START + timedelta(hours=1, days=14)
        assert team.id != first.id


def test_first_purchase_is_paid_once_per_buyer_and_merchant(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=0, first_purchase=500)
    clock.at(START)
    click(scene.browser, scene.href_a)
    with app.app_context():
        service.record_order(
            facts(1, scene.buyer, scene.merchant, paid_at=START + timedelta(hours=1))
        )
        service.record_order(
            facts(2, scene.buyer, scene.merchant, paid_at=START + timedelta(hours=2))
        )
        db.session.commit()
        kinds = db.session.scalars(db.select(Conversion.kind).order_by(Conversion.id)).all()
        assert kinds == ["order", "first_purchase", "order"]
    assert ledger(app, scene.merchant)["net_cents"] == 500


def test_bad_facts_and_actions_are_refused_and_write_nothing(app, scene):
    paid = START
    bad_facts = [
        facts(0, scene.buyer, scene.merchant, paid_at=paid),
        facts(1, scene.buyer, scene.merchant, total=-5, paid_at=paid),
        facts(1, scene.buyer, scene.merchant, currency="usd", paid_at=paid),
        facts(1, scene.buyer, scene.merchant, status="lost", paid_at=paid),
        facts(1, scene.buyer, scene.merchant, paid_at=paid.replace(tzinfo=None)),
    ]
    with app.app_context():
        for item in bad_facts:
            with pytest.raises(ValidationFailed):
                service.record_order(item)
        with pytest.raises(ValidationFailed):
            service.record_order({"order_id": 1})
        with pytest.raises(NotFound):
            service.record_order(
                service.OrderFacts(1, 999, scene.merchant.id, 100, "USD", "paid", paid_at=paid)
            )
        with pytest.raises(ValidationFailed):
            service.record_action(
                "purchase", user_id=scene.buyer.id, merchant_id=scene.merchant.id, key="k"
            )
        with pytest.raises(ValidationFailed):
            service.record_action(
                "signup", user_id=scene.buyer.id, merchant_id=scene.merchant.id, key=""
            )
        with pytest.raises(ValidationFailed):
            service.record_action("signup", user_id=True, merchant_id=scene.merchant.id, key="k")
        with pytest.raises(NotFound):
            service.record_action("signup", user_id=scene.buyer.id, merchant_id=12345, key="k")
        db.session.rollback()
    assert ledger(app, scene.merchant)["conversions"] == 0


def test_settings_are_validated_and_merchant_only(app, scene):
    with app.app_context():
        merchant = db.session.get(User, scene.merchant.id)
        with pytest.raises(Forbidden):
            service.update_settings(db.session.get(User, scene.buyer.id), cps_rate_bp=100)
        for bad in (
            {"cps_rate_bp": 10_001},
            {"cps_rate_bp": -1},
            {"cps_rate_bp": 1.5},
            {"model": "best"},
            {"currency": "dollars"},
            {"cpa_cents": {"signup": -1}},
            {"cpa_cents": {"bribe": 5}},
        ):
            with pytest.raises(ValidationFailed):
                service.update_settings(merchant, **bad)
        db.session.rollback()
        assert service.settings_of(merchant.id).cps_rate_bp == 0
        saved = service.update_settings(
            merchant, cps_rate_bp=750, cpa_cents={"signup": 100}, model="linear"
        )
        saved = service.update_settings(merchant, cpa_cents={"team_join": 50})
        db.session.commit()
        assert (
            saved.cps_rate_bp,
            saved.cpa_signup_cents,
            saved.cpa_team_join_cents,
            saved.model,
        ) == (750, 100, 50, "linear")


def test_rates_are_fixed_when_the_conversion_happens(app, scene, clock):
    set_rates(app, scene.merchant, cps_rate_bp=1000)
    clock.at(START)
    click(scene.browser, scene.href_a)
    paid = START + timedelta(hours=1)
    with app.app_context():
        service.record_order(facts(1, scene.buyer, scene.merchant, paid_at=paid))
        db.session.commit()
    set_rates(app, scene.merchant, cps_rate_bp=3000)
    with app.app_context():
        service.on_order_status(
            facts(
                1, scene.buyer, scene.merchant, status="completed", paid_at=paid, completed_at=paid
            )
        )
        db.session.commit()
        assert service.ledger_sum(scene.merchant.id) == 1_000
        assert db.session.scalar(db.select(Conversion.rate_bp)) == 1000
