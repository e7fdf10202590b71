from sqlalchemy import func, select

from forum import tasks
from forum.board.models import Category
from forum.extensions import db


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
