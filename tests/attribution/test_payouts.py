"""Payouts under concurrency: many admins (or retries) paying one merchant at once.

Each request runs in its own thread with its own app context, session and
connection, and commits, so on PostgreSQL (PLAZA_TEST_DATABASE_URL) this is a
real race between transactions. The pool stays small: one connection per
worker thread, fewer than the engine's default pool of five plus overflow.
"""

import threading
from datetime import timedelta

import pytest

from forum.attribution import service
from forum.attribution.models import Commission, Payout
from forum.extensions import db
from tests.attribution.conftest import START, click, facts, set_rates, tracked_href
from tests.conftest import login

WORKERS = 4


@pytest.fixture
def approved(app, make_user, offers, post_with_offer, clock):
    """A merchant owing 10.00 + 25.00 of approved commission to one author."""
    clock.at(START)
    merchant, author, buyer = (
        make_user("shopkeeper", role="merchant"),
        make_user("writer"),
        make_user("buyer"),
    )
    admin = make_user("payadmin", role="admin")
    set_rates(app, merchant, cps_rate_bp=1000)
    offer = offers.add(merchant)
    href = tracked_href(app, post_with_offer(author, offer), offer)
    browser = app.test_client()
    login(browser, buyer)
    click(browser, href)
    paid, completed = START + timedelta(hours=1), START + timedelta(days=1)
    with app.app_context():
        for order_id, total in ((1, 10_000), (2, 25_000)):
            service.record_order(
                facts(
                    order_id,
                    buyer,
                    merchant,
                    total=total,
                    status="completed",
                    paid_at=paid,
                    completed_at=completed,
                )
            )
        db.session.commit()
    clock.at(completed + timedelta(days=30))
    with app.app_context():  # the approval job ran: every payout request sees approved rows
        assert service.approve_due() == 2
        db.session.commit()
    return merchant, admin


def test_concurrent_payouts_make_one_payout_and_the_rest_nothing_to_pay(app, approved, token_for):
    merchant, admin = approved
    headers = token_for(admin)
    with app.app_context():
        before = service.ledger_sum(merchant.id)
    barrier = threading.Barrier(WORKERS)
    answers, errors = [], []

    def pay():
        try:
            client = app.test_client()
            barrier.wait(timeout=10)
            response = client.post(
                "/api/v1/admin/attribution/payouts",
                json={"merchant_id": merchant.id},
                headers=headers,
            )
            answers.append((response.status_code, response.get_json()))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (WORKERS - 1)
    refusals = [body["error"]["code"] for status, body in answers if status == 409]
    assert refusals == ["nothing_to_pay"] * (WORKERS - 1)
    [(_, paid)] = [(s, body) for s, body in answers if s == 201]
    assert [(p["total_cents"], p["entries"]) for p in paid["items"]] == [(3_500, 2)]
    with app.app_context():
        payouts = db.session.scalars(db.select(Payout)).all()
        assert [(p.total_cents, p.entries) for p in payouts] == [(3_500, 2)]
        rows = db.session.scalars(db.select(Commission)).all()
        assert {(r.status, r.payout_id) for r in rows} == {("paid", payouts[0].id)}
        assert service.ledger_sum(merchant.id) == before == 3_500
