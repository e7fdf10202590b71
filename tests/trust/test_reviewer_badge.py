"""The "trusted reviewer" badge: published reviews other members found helpful.

Three reviews (the default), each found helpful by two members (the default), that
count: not hidden, not deleted. A helpful vote sends no signal, so the periodic sweep
awards it; a review written, edited or restored awards it at once (review_changed)."""

from sqlalchemy import func, select

from forum.accounts.models import User
from forum.extensions import db
from forum.notifications.models import Notification
from forum.reviews import service as reviews
from forum.reviews.models import Review
from forum.trust import service as trust
from forum.trust.models import BadgeAward
from forum.trust.tasks import award_badges
from tests.conftest import app_context, login
from tests.reviews.conftest import buy, write  # noqa: F401 (buy is a fixture)

from .test_badges import badges


def _reviewer_with_reviews(app, shop, make_product, make_user, buy, count=3):  # noqa: F811
    reviewer = make_user("critic")
    ids = []
    for n in range(count):
        product_id = make_product(shop, f"Kettle {n}", price_cents=2000, stock=10)
        buy(reviewer, product_id)
        ids.append(write(app, reviewer, product_id, title=f"Kettle {n} is fine"))
    return reviewer, ids


def _vote(app, voter, review_id):
    with app_context(app), app.test_request_context("/"):
        reviews.vote_helpful(db.session.get(User, voter.id), db.session.get(Review, review_id))
        db.session.commit()


def _sweep(app) -> int:
    with app_context(app), app.test_request_context("/"):
        return award_badges()


def test_awarded_by_the_sweep_once_every_review_is_helpful_to_two_members(
    app,
    shop,
    make_product,
    make_user,
    buy,  # noqa: F811
):
    reviewer, ids = _reviewer_with_reviews(app, shop, make_product, make_user, buy)
    fans = [make_user(f"fan{n}") for n in range(2)]
    for review_id in ids[:2]:
        for fan in fans:
            _vote(app, fan, review_id)
    _vote(app, fans[0], ids[2])
    assert _sweep(app) == 0  # the third review has one helpful vote
    assert badges(app, reviewer) == []

    _vote(app, fans[1], ids[2])
    assert _sweep(app) == 1
    assert _sweep(app) == 0  # once
    assert badges(app, reviewer) == ["trusted_reviewer"]
    with app_context(app):
        notes = db.session.scalars(
            select(Notification.text).where(
                Notification.user_id == reviewer.id, Notification.kind == "badge"
            )
        ).all()
        assert len(notes) == 1 and "Trusted reviewer" in notes[0]
    viewer = app.test_client()
    login(viewer, make_user("viewer"))
    assert "Trusted reviewer" in viewer.get("/u/critic").get_data(as_text=True)


def test_a_hidden_review_does_not_count_and_restoring_it_awards_at_once(
    app,
    shop,
    make_product,
    make_user,
    buy,  # noqa: F811
):
    reviewer, ids = _reviewer_with_reviews(app, shop, make_product, make_user, buy)
    moderator = make_user("mod", role="moderator")
    fans = [make_user(f"fan{n}") for n in range(2)]
    for review_id in ids:
        for fan in fans:
            _vote(app, fan, review_id)
    with app_context(app), app.test_request_context("/"):
        mod = db.session.get(User, moderator.id)
        reviews.set_hidden(mod, db.session.get(Review, ids[0]), True, "Looks paid for")
        db.session.commit()
    assert _sweep(app) == 0
    assert badges(app, reviewer) == []

    with app_context(app), app.test_request_context("/"):
        mod = db.session.get(User, moderator.id)
        reviews.set_hidden(mod, db.session.get(Review, ids[0]), False, "Checked: genuine")
        db.session.commit()  # review_changed(restored): no sweep needed
        assert db.session.scalar(select(func.count()).select_from(BadgeAward)) == 1
    assert badges(app, reviewer) == ["trusted_reviewer"]


def test_too_few_reviews_never_earn_it(app, shop, make_product, make_user, buy):  # noqa: F811
    reviewer, ids = _reviewer_with_reviews(app, shop, make_product, make_user, buy, count=2)
    for fan in (make_user("fan0"), make_user("fan1"), make_user("fan2")):
        for review_id in ids:
            _vote(app, fan, review_id)
    assert _sweep(app) == 0
    with app_context(app):
        assert trust.badges_of(reviewer.id) == []
