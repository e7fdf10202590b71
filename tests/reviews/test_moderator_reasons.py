"""A moderator deleting, hiding or restoring someone's review, or removing or deciding
an experience report, gives a reason on every path: without one nothing changes and
nothing is audited; with one the audit entry names the item and its author."""

import pytest
from sqlalchemy import select

from forum.accounts.models import User
from forum.errors import ValidationFailed
from forum.extensions import db
from forum.moderation.models import AuditEntry
from forum.reviews import service
from forum.reviews.models import ExperienceReport, Review
from tests.conftest import app_context, login

from .conftest import ADDRESS, item_of, review_rows, write
from .test_nudges_and_reports import post_report


def _entries(app) -> list[tuple]:
    with app_context(app):
        return [
            (e.action, e.target_type, e.target_id, e.subject_id, e.reason)
            for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_hide_restore_and_delete_without_a_reason_change_nothing(
    app, make_user, product, buy, reason
):
    author, mod = make_user("writer"), make_user("moddy", role="moderator")
    review_id = write(app, author, product, order_id=buy(author, product))
    before = review_rows(app)
    with app_context(app), app.test_request_context("/"):
        moderator, review = db.session.get(User, mod.id), db.session.get(Review, review_id)
        for act in (
            lambda: service.set_hidden(moderator, review, True, reason),
            lambda: service.delete_review(moderator, review, reason),
        ):
            with pytest.raises(ValidationFailed) as refused:
                act()
            assert "reason" in refused.value.fields
            db.session.rollback()
        service.set_hidden(moderator, review, True, "fake")
        db.session.commit()
        with pytest.raises(ValidationFailed):
            service.set_hidden(moderator, db.session.get(Review, review_id), False, reason)
        db.session.rollback()
        assert db.session.get(Review, review_id).hidden_at is not None
    assert review_rows(app)["reviews"] == before["reviews"]
    assert _entries(app) == [("review.hide", "review", review_id, author.id, "fake")]


def test_a_moderator_deletes_a_review_through_api_and_page_with_a_reason(
    app, client, make_user, product, buy, token_for
):
    author, mod = make_user("writer"), make_user("moddy", role="moderator")
    first = write(app, author, product, order_id=buy(author, product))
    refused = client.delete(f"/api/v1/reviews/{first}", headers=token_for(mod))
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    assert _entries(app) == []
    done = client.delete(
        f"/api/v1/reviews/{first}", json={"reason": "Not about it"}, headers=token_for(mod)
    )
    assert done.status_code == 204
    assert _entries(app) == [("review.delete", "review", first, author.id, "Not about it")]

    other = make_user("other")
    second = write(
        app, other, product, order_id=buy(other, product, address={**ADDRESS, "line1": "9 Elm"})
    )
    browser = app.test_client()
    login(browser, mod)
    assert 'aria-label="Reason to delete"' in browser.get(f"/shop/p/{product}").get_data(
        as_text=True
    )
    browser.post(f"/reviews/{second}/delete", data={})
    with app_context(app):
        assert db.session.get(Review, second).deleted_at is None
    browser.post(f"/reviews/{second}/delete", data={"reason": "Spam"})
    with app_context(app):
        assert db.session.get(Review, second).deleted_at is not None
    assert _entries(app)[-1] == ("review.delete", "review", second, other.id, "Spam")


def test_reports_removed_or_decided_by_a_moderator_need_a_reason(
    app, shop, make_user, product, buy, report_category
):
    author, mod = make_user("writer"), make_user("moddy", role="moderator")
    report_id, thread_id = post_report(
        app, author, report_category, item_of(app, buy(author, product))
    )
    with app_context(app), app.test_request_context("/"):
        report = db.session.get(ExperienceReport, report_id)
        moderator = db.session.get(User, mod.id)
        for act in (
            lambda: service.decide_report(moderator, report, approve=True),
            lambda: service.remove_report(moderator, report, " "),
        ):
            with pytest.raises(ValidationFailed):
                act()
            db.session.rollback()
        assert db.session.get(ExperienceReport, report_id).status == "pending"
        # The shop deciding on its own report is not a moderator's action.
        service.decide_report(db.session.get(User, shop.user.id), report, approve=True)
        db.session.commit()
        service.remove_report(moderator, db.session.get(ExperienceReport, report_id), "copied")
        db.session.commit()
    assert _entries(app)[-1] == ("report.remove", "report", report_id, author.id, "copied")
