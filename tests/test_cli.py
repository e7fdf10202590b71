from sqlalchemy import func, select

from forum import tasks
from forum.accounts.models import User
from forum.board.models import Category, Post, Thread
from forum.extensions import db


def test_demo_builds_a_lively_community_once(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin / plaza-demo" in result.output
    assert "Games: a live Dutch auction" in result.output
    assert "cheap_watches_4u is silenced" in result.output
    with app.app_context():
        from forum.accounts.models import User
        from forum.moderation.models import ReviewItem

        kinds = [
            i.kind
            for i in db.session.scalars(select(ReviewItem).where(ReviewItem.status == "pending"))
        ]
        assert kinds.count("first_post") == 1 and kinds.count("flagged") >= 3
        assert db.session.scalars(select(ReviewItem.auto_hidden)).all().count(True) == 1
        assert db.session.scalar(
            select(User).where(User.username == "cheap_watches_4u")
        ).is_silenced
        from forum.promotions import service as promotions
        from forum.promotions.models import Auction, GroupBuy, GuessGame, Team

        auction = db.session.scalars(select(Auction)).one()
        assert promotions.auction_payload(auction)["state"] == "live"
        game = db.session.scalars(select(GuessGame)).one()
        assert game.guesses_count >= 6 and promotions.game_payload(game)["state"] == "open"
        ladder = db.session.scalars(select(GroupBuy).where(GroupBuy.steps.is_not(None))).one()
        team = db.session.scalars(select(Team).where(Team.group_buy_id == ladder.id)).one()
        assert team.members == 3 and promotions.team_price(team) == ladder.steps[1]["price_cents"]
        roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
        assert (
            roles["admin"] == 1
            and roles["moderator"] >= 1
            and roles["merchant"] >= 1
            and roles["member"] >= 24
        )
        assert db.session.scalar(select(func.count()).select_from(Category)) >= 5
        assert db.session.scalar(select(func.count()).select_from(Thread)) >= 150
        assert db.session.scalar(select(func.count()).select_from(Post)) >= 500
        _the_demo_month_of_attribution_is_consistent()
        _the_demo_shows_trust_and_reviews()
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "already present" in again.output
    client = app.test_client()
    assert (
        client.post("/login", data={"username": "admin", "password": "plaza-demo"}).status_code
        == 302
    )
    assert client.get("/").status_code == 200


def _the_demo_shows_trust_and_reviews():
    """Members at every trust level, published reviews, and the trusted-reviewer badge
    given by the rule (an award by hand carries a reason; the rule's has none)."""
    from forum.reviews import service as reviews
    from forum.reviews.models import Review
    from forum.trust.models import BadgeAward

    levels = set(db.session.scalars(select(User.trust_level)))
    assert levels >= {0, 1, 2, 3, 4}
    published = db.session.scalars(select(Review)).all()
    published = [r for r in published if r.hidden_at is None and r.deleted_at is None]
    assert len(published) >= 8
    awards = db.session.scalars(
        select(BadgeAward).where(BadgeAward.badge == "trusted_reviewer")
    ).all()
    assert awards and all(a.reason == "" for a in awards)
    assert {a.user_id for a in awards} <= set(reviews.helpful_reviewers(3, 2))
    badges = set(db.session.scalars(select(BadgeAward.badge)))
    assert {"helpful", "event_regular", "trusted_reviewer", "welcomer"} <= badges


def only_these_periodic_tasks(app, **funcs) -> None:
    """Register ``funcs`` as tasks of this app's Celery and make them the whole beat schedule."""
    celery_app = app.extensions["celery"]
    schedule = {}
    for name, body in funcs.items():
        celery_app.task(name=f"test.{name}")(body)
        schedule[name] = {"task": f"test.{name}", "schedule": 60.0}
    celery_app.conf.beat_schedule = schedule  # this test's app only


def test_jobs_run_reports_each_periodic_task(app, runner, monkeypatch):
    calls = []

    def test_job():
        calls.append(1)
        return 3

    only_these_periodic_tasks(app, test_job=test_job)
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "test_job: 3" in result.output and calls == [1]


def test_a_failing_task_is_rolled_back_and_others_still_run(app, monkeypatch):
    def broken():
        db.session.add(Category(slug="half-written", name="Half"))
        db.session.flush()
        raise RuntimeError("boom")

    def fine():
        return 1

    only_these_periodic_tasks(app, broken=broken, fine=fine)
    assert tasks.run_periodic_once(app) == {"broken": -1, "fine": 1}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Category)) == 0


def _the_demo_month_of_attribution_is_consistent():
    """The demo's orders went through the shop and its hooks: credited, stamped, reversed."""
    from forum.attribution import reports, service
    from forum.attribution.models import Commission, Conversion
    from forum.shop_embed.models import Order

    sourced = db.session.scalars(select(Order).where(Order.source_kind.is_not(None))).all()
    assert len(sourced) >= 30
    days = {order.paid_at.date() for order in sourced}
    assert len(days) >= 15  # spread over the month, not made today
    credited = {c.order_id for c in db.session.scalars(select(Conversion)) if c.order_id}
    assert {order.id for order in sourced} <= credited
    refunded = [order for order in sourced if order.status == "refunded"]
    assert refunded and all(
        service.order_conversion(order.id).reversed_at is not None for order in refunded
    )
    assert db.session.scalar(
        select(func.count()).select_from(Commission).where(Commission.status == "approved")
    )
    for merchant in db.session.scalars(select(User).where(User.role == "merchant")):
        report = reports.funnel("post", merchant_id=merchant.id)
        assert report.totals.commission_cents == service.ledger_sum(merchant.id)
        assert sum(row.commission_cents for row in report.rows) == report.totals.commission_cents
