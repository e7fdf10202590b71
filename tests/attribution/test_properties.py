"""Property: whatever happens (clicks, orders, completions, refunds, approvals, payouts, in any
order), the merchant's commission is the sum of its ledger rows everywhere it is shown, no
conversion's commission goes negative, and a self-referral never earns."""

import contextlib
import itertools
from datetime import timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from forum.accounts import service as accounts
from forum.accounts.models import User
from forum.attribution import links, reports, service
from forum.attribution.models import Commission, Conversion, Credit
from forum.extensions import db
from tests.attribution.conftest import START

BUYERS = 3
POSTS = 3  # post 0 by alice, post 1 by bob, post 2 by buyer 0 (so buyer 0 can refer themselves)

# Time moves forward by a gap before each event: mostly minutes or hours (inside the window),
# sometimes past the 7-day window or the 14-day lock.
gaps = st.sampled_from([0, 1, 5, 30, 60, 6 * 60, 24 * 60, 3 * 24 * 60, 8 * 24 * 60, 15 * 24 * 60])
follow_up = st.tuples(
    st.sampled_from(["complete", "complete", "refund", "cancel", "replay"]),
    st.integers(0, 20),
    st.just(0),
    gaps,
)
# Approvals and payouts often come after the 14-day lock, so there is paid commission to refund.
admin_event = st.tuples(
    st.sampled_from(["approve", "payout"]),
    st.just(0),
    st.just(0),
    st.sampled_from([0, 15 * 24 * 60]),
)


@st.composite
def journeys(draw):
    """A few shopping trips: a buyer reads 0-3 posts, usually buys, then things happen to orders."""
    events = []
    for _ in range(draw(st.integers(1, 6))):
        buyer = draw(st.integers(0, BUYERS - 1))
        for post in draw(st.lists(st.integers(0, POSTS - 1), max_size=4)):
            events.append(("click", buyer, post, draw(gaps)))
        if draw(st.sampled_from([True, True, True, False])):
            events.append(("order", buyer, draw(st.integers(0, 50_000)), draw(gaps)))
        events.extend(draw(st.lists(st.one_of(follow_up, admin_event), max_size=4)))
    return events


@pytest.fixture
def world(app, make_user, make_thread, offers):
    from forum.board.models import Post

    alice, bob = make_user("alice"), make_user("bob")
    buyers = [make_user(f"buyer{n}") for n in range(BUYERS)]
    admin = make_user("boss", role="admin")
    authors = [alice, bob, buyers[0]]
    posts = []
    with app.app_context():
        for n, author in enumerate(authors):
            thread_id = make_thread(author, title=f"Thread {n}", body="hello")
            posts.append(
                (
                    db.session.scalar(db.select(Post.id).where(Post.thread_id == thread_id)),
                    author.id,
                )
            )
    return {
        "buyers": buyers,
        "posts": posts,
        "admin": admin,
        "offers": offers,
        "counter": itertools.count(1),
    }


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    journey=journeys(),
    model=st.sampled_from(["last", "first", "linear"]),
    rate=st.one_of(st.integers(1, 10_000), st.just(0)),
    first_purchase=st.integers(0, 2_000),
)
def test_random_journeys_keep_the_ledger_consistent(
    app, world, journey, model, rate, first_purchase
):
    run = next(world["counter"])
    base = START + timedelta(days=run)  # examples are kept apart by their own merchant and offer
    with app.app_context(), app.test_request_context("/"):
        merchant = accounts.register(
            f"shop{run}", f"shop{run}@example.com", "long shop passphrase", role="merchant"
        )
        service.update_settings(
            merchant, cps_rate_bp=rate, model=model, cpa_cents={"first_purchase": first_purchase}
        )
        db.session.commit()
        offer = world["offers"].add(merchant)
        orders: list[service.OrderFacts] = []
        clock = base
        for kind, a, b, gap in journey:
            clock += timedelta(minutes=gap)
            with time_machine.travel(clock, tick=False):
                _apply(world, merchant, offer, orders, run, kind, a, b, clock)
                db.session.commit()
        _check_invariants(merchant.id)
        _label_example(merchant.id)


def _label_example(merchant_id: int) -> None:
    """What the example exercised (``pytest --hypothesis-show-statistics``)."""
    credits = db.session.scalars(
        db.select(Credit).join(Conversion).where(Conversion.merchant_id == merchant_id)
    ).all()
    statuses = set(
        db.session.scalars(
            db.select(Commission.status).where(Commission.merchant_id == merchant_id)
        )
    )
    event(f"credited conversions: {min(3, len({c.conversion_id for c in credits}))}")
    event(f"self-referral credited: {any(c.self_referral for c in credits)}")
    event(f"split between posts: {any(c.weight_bp < 10_000 for c in credits)}")
    for status in sorted(statuses):
        event(f"commission {status}")


def _apply(world, merchant, offer, orders, run, kind, a, b, at):
    buyers = world["buyers"]
    if kind == "click":
        post_id, author_id = world["posts"][b]
        link = links.TrackedLink("post", post_id, author_id, "product", offer, f"/?offer={offer}")
        service.record_click(
            link, user_id=buyers[a].id, visitor_id=None, ip="127.0.0.1", user_agent="Mozilla/5.0"
        )
    elif kind == "order":
        order = service.OrderFacts(
            run * 1000 + len(orders), buyers[a].id, merchant.id, b, "USD", "paid", paid_at=at
        )
        orders.append(order)
        service.record_order(order)
    elif kind in ("complete", "refund", "cancel", "replay") and orders:
        order = orders[a % len(orders)]
        if kind == "replay":
            service.on_order_status(order)
            return
        status = {"complete": "completed", "refund": "refunded", "cancel": "cancelled"}[kind]
        if order.status in ("refunded", "cancelled") or (
            kind == "complete" and order.status == "completed"
        ):
            return
        changed = service.OrderFacts(
            order.order_id,
            order.buyer_id,
            order.merchant_id,
            order.total_cents,
            order.currency,
            status,
            paid_at=order.paid_at,
            completed_at=at if status == "completed" else order.completed_at,
            refunded_at=at if status != "completed" else None,
        )
        orders[a % len(orders)] = changed
        service.on_order_status(changed)
    elif kind == "approve":
        service.approve_due()
    elif kind == "payout":
        with contextlib.suppress(service.Conflict):
            service.pay_out(db.session.get(User, world["admin"].id), merchant.id)


def _check_invariants(merchant_id: int) -> None:
    rows = db.session.scalars(
        db.select(Commission).where(Commission.merchant_id == merchant_id)
    ).all()
    ledger = sum(r.amount_cents for r in rows)
    assert service.ledger_sum(merchant_id) == ledger
    # The report (every grouping) and the balances say the same.
    for group in reports.MERCHANT_GROUPS:
        report = reports.funnel(group, merchant_id=merchant_id)
        assert report.totals.commission_cents == ledger
        assert sum(r.commission_cents for r in report.rows) == ledger
        assert sum(r.revenue_cents for r in report.rows) == report.totals.revenue_cents
    balances = service.balances(merchant_id)
    assert sum(b["net_cents"] for b in balances) == ledger
    # Per conversion: never negative, never more than it was worth, reversals exact and single.
    by_conversion: dict[int, list[Commission]] = {}
    for row in rows:
        by_conversion.setdefault(row.conversion_id, []).append(row)
    for conversion_id, entries in by_conversion.items():
        conversion = db.session.get(Conversion, conversion_id)
        total = sum(e.amount_cents for e in entries)
        assert 0 <= total <= conversion.commission_cents
        earned = {e.id: e for e in entries if e.kind == "earned"}
        reversals = [e for e in entries if e.kind == "reversal"]
        assert len({r.reverses_id for r in reversals}) == len(reversals)
        for reversal in reversals:
            original = earned[reversal.reverses_id]
            assert reversal.amount_cents == -original.amount_cents
            assert original.status == "reversed" and original.paid_at is None
        for entry in earned.values():
            assert entry.amount_cents > 0
            assert (entry.status == "reversed") == (entry.id in {r.reverses_id for r in reversals})
    # Self-referrals never earn.
    for row in rows:
        credit = db.session.get(Credit, row.credit_id)
        conversion = db.session.get(Conversion, row.conversion_id)
        assert not credit.self_referral
        assert credit.author_id not in (conversion.customer_id, merchant_id)
    # Credits split the whole conversion: weights sum to 100%, revenue exactly.
    for conversion in db.session.scalars(
        db.select(Conversion).where(Conversion.merchant_id == merchant_id)
    ):
        credits = conversion.credits
        if credits:
            assert sum(c.weight_bp for c in credits) == 10_000
            assert sum(c.revenue_cents for c in credits) == conversion.revenue_cents
        else:
            assert conversion.direct
