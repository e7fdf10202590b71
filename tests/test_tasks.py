"""The Celery wiring: configuration, the embedded default, the periodic schedule."""

import threading

from forum import create_app, tasks
from forum.accounts.models import User
from forum.extensions import db
from tests.conftest import base_config


def test_without_a_broker_tasks_run_eagerly_in_the_calling_process(app):
    conf = app.extensions["celery"].conf
    assert conf.task_always_eager is True
    assert conf.broker_url == "memory://"  # never reached by another process


def test_the_broker_and_result_backend_come_from_the_environment(database_uri, monkeypatch):
    monkeypatch.setenv("FORUM_CELERY__BROKER_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("FORUM_CELERY__RESULT_BACKEND", "redis://127.0.0.1:6379/4")
    conf = create_app(base_config(database_uri)).extensions["celery"].conf
    assert conf.broker_url == "redis://127.0.0.1:6379/3"
    assert conf.result_backend == "redis://127.0.0.1:6379/4"
    assert conf.task_always_eager is False


def test_every_scheduled_task_is_a_registered_task(app):
    celery_app = app.extensions["celery"]
    scheduled = {entry["task"] for entry in celery_app.conf.beat_schedule.values()}
    assert scheduled <= set(celery_app.tasks)
    assert {"shop.expire_orders", "events.send_reminders", "promotions.settle_teams"} <= scheduled


def test_a_task_called_inside_a_request_commits_in_a_session_of_its_own(app, make_user):
    """An eager task does not commit (or roll back) what its caller has not committed."""
    user = make_user("caller")
    celery_app = app.extensions["celery"]

    @celery_app.task(name="test.rename")
    def rename(user_id):
        db.session.get(User, user_id).bio = "set by the task"

    with app.test_request_context("/"):
        db.session.get(User, user.id).username = "uncommitted"
        rename.delay(user.id).get()
        db.session.rollback()
    with app.app_context():
        row = db.session.get(User, user.id)
        assert (row.username, row.bio) == ("caller", "set by the task")


def test_the_embedded_beat_runs_periodic_tasks_inside_the_server_process(app):
    """What `make run` relies on: no broker, no worker, and the sweeps still fire."""
    fired = threading.Event()
    celery_app = app.extensions["celery"]

    @celery_app.task(name="test.probe")
    def probe():
        fired.set()
        return 1

    celery_app.conf.beat_schedule = {"probe": {"task": "test.probe", "schedule": 0.2}}
    beat = tasks.start_embedded_beat(app)
    try:
        assert fired.wait(timeout=20)
    finally:
        beat.stop()
