from sqlalchemy import func, select

from forum import jobs
from forum.accounts.models import User
from forum.board.models import Category, Post, Thread
from forum.extensions import db


def test_demo_builds_a_lively_community_once(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin / plaza-demo" in result.output
    with app.app_context():
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
    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0 and "already present" in again.output
    client = app.test_client()
    assert (
        client.post("/login", data={"username": "admin", "password": "plaza-demo"}).status_code
        == 302
    )
    assert client.get("/").status_code == 200


def test_jobs_run_reports_each_job(app, runner, monkeypatch):
    calls = []
    monkeypatch.setitem(jobs._JOBS, "test_job", jobs.Job("test_job", lambda: calls.append(1) or 3))
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "test_job: 3" in result.output and calls == [1]


def test_a_failing_job_is_rolled_back_and_others_still_run(app, monkeypatch):
    def broken():
        db.session.add(Category(slug="half-written", name="Half"))
        db.session.flush()
        raise RuntimeError("boom")

    monkeypatch.setattr(
        jobs, "_JOBS", {"broken": jobs.Job("broken", broken), "fine": jobs.Job("fine", lambda: 1)}
    )
    assert jobs.run_all(app) == {"broken": -1, "fine": 1}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Category)) == 0
