"""Background work on Celery, wired the way Flask's "Background Tasks with Celery" shows.

``celery_init_app(app)`` (called by ``create_app``) makes one Celery app per Flask app,
configured from ``app.config["CELERY"]`` (lower-case Celery setting names; environment:
``FORUM_CELERY__BROKER_URL=redis://...``, any case). Its task base, ``FlaskTask``, runs
every task inside the Flask app context (plus a request context for ``url_for``, as the
views have) and commits on success, rolls back on error.

Tasks are declared with ``@shared_task`` in each feature's ``tasks.py`` as thin calls to
that feature's service; ``TASK_MODULES`` lists those modules and ``beat_schedule`` lists
the periodic ones: both are plain configuration, nothing registers itself by being
imported somewhere. Every periodic task is idempotent and correctness never depends on
it having run (expired holds already stop counting, an expired team already reads as
failed...): the sweeps only tidy up and announce, so a late, doubled or retried run is
harmless.

Production: ``broker_url`` and ``result_backend`` point at Redis, and workers with one
beat run as ``celery -A forum.celery_worker worker -B`` (see the README).

The embedded default (no broker configured): tasks run *eagerly*, in the process that
calls them (``task_always_eager``), and ``flask serve`` with ``JOBS_IN_PROCESS`` (what
``make run`` sets) runs Celery's own beat scheduler in a thread of the server, so the
periodic tasks still fire every ``JOBS_INTERVAL_SECONDS``. Why not a worker process on a
SQLite or filesystem broker: that is a second process for ``make run`` to start and
stop, polling a second SQLite file, while the demo's work is small and was already done
in-process before the queue existed; eager tasks keep exactly that behaviour with no
extra moving part. The trade-off: without a broker, a retry runs again at once instead
of after its countdown, and a task runs in the caller's thread.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app, has_app_context

# Where the tasks live (imported by the worker and by every app, so beat's task names resolve).
TASK_MODULES = (
    "forum.shop_embed.tasks",
    "forum.promotions.tasks",
    "forum.events.tasks",
    "forum.attribution.tasks",
    "forum.chat.tasks",
    "forum.members.tasks",
    "forum.reviews.tasks",
    "forum.campaigns.tasks",
    "forum.trust.tasks",
    "forum.recommend.tasks",
)

EMBEDDED_BROKER = "memory://"  # never crosses a process; only used with task_always_eager


def beat_schedule(interval: float) -> dict[str, dict[str, Any]]:
    """The periodic tasks and how often they run (seconds)."""
    every = float(interval)
    return {
        "shop.expire_orders": {"task": "shop.expire_orders", "schedule": every},
        "promotions.settle_teams": {"task": "promotions.settle_teams", "schedule": every},
        "promotions.finish_games": {"task": "promotions.finish_games", "schedule": every},
        "promotions.send_reminders": {"task": "promotions.send_reminders", "schedule": every},
        "events.send_reminders": {"task": "events.send_reminders", "schedule": every},
        "events.record_no_shows": {"task": "events.record_no_shows", "schedule": every},
        "attribution.approve_commissions": {
            "task": "attribution.approve_commissions",
            "schedule": every,
        },
        "attribution.prune_impression_seen": {
            "task": "attribution.prune_impression_seen",
            "schedule": 3600.0,
        },
        "chat.sweep_connections": {"task": "chat.sweep_connections", "schedule": every},
        "members.evaluate_tiers": {"task": "members.evaluate_tiers", "schedule": 3600.0},
        "trust.evaluate_levels": {"task": "trust.evaluate_levels", "schedule": 3600.0},
        "trust.award_badges": {"task": "trust.award_badges", "schedule": 3600.0},
        "members.release_rebates": {"task": "members.release_rebates", "schedule": every},
        "members.expire_points": {"task": "members.expire_points", "schedule": 3600.0},
        "reviews.send_reminders": {"task": "reviews.send_reminders", "schedule": every},
        "campaigns.tick": {"task": "campaigns.tick", "schedule": every},
        "campaigns.send_notification_emails": {
            "task": "campaigns.send_notification_emails",
            "schedule": every,
        },
        "campaigns.send_digests": {"task": "campaigns.send_digests", "schedule": 600.0},
        "recommend.recompute": {"task": "recommend.recompute", "schedule": 3600.0},
    }


def celery_settings(app: Flask) -> dict[str, Any]:
    """``app.config["CELERY"]`` over the defaults; keys lower-cased (env vars are upper)."""
    given = {str(key).lower(): value for key, value in (app.config.get("CELERY") or {}).items()}
    broker = given.get("broker_url") or None
    settings = {
        "broker_url": broker or EMBEDDED_BROKER,
        "result_backend": None,
        "task_always_eager": broker is None or bool(app.config.get("TASKS_EAGER")),
        "task_ignore_result": True,
        # Tasks are idempotent, so a message whose worker died is simply delivered again.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        "imports": TASK_MODULES,
        "beat_schedule": beat_schedule(app.config["JOBS_INTERVAL_SECONDS"]),
        "beat_schedule_filename": os.path.join(app.instance_path, "celerybeat-schedule"),
        "timezone": "UTC",
    }
    settings.update({key: value for key, value in given.items() if key != "broker_url"})
    return settings


def celery_init_app(app: Flask) -> Celery:
    from .extensions import db

    class FlaskTask(Task):  # type: ignore[misc]  # Celery ships no types
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            # An eager call from inside the app runs in a context of its own (its own
            # database session), as it would on a worker.
            flask_app: Flask = (
                current_app._get_current_object()  # type: ignore[attr-defined]
                if has_app_context()
                else app
            )
            # SITE_URL: where links in mail (url_for(..., _external=True)) point.
            base_url = flask_app.config.get("SITE_URL") or None
            with flask_app.app_context(), flask_app.test_request_context("/", base_url=base_url):
                try:
                    result = self.run(*args, **kwargs)
                    db.session.commit()
                    return result
                except BaseException:
                    db.session.rollback()
                    raise

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(celery_settings(app))
    for name in TASK_MODULES:
        import_module(name)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def start_embedded_beat(app: Flask) -> Any:
    """Celery's beat scheduler in a daemon thread of this process (``flask serve``)."""
    from celery.beat import EmbeddedService

    beat = EmbeddedService(
        app.extensions["celery"], thread=True, scheduler_cls="celery.beat:Scheduler"
    )
    beat.start()
    return beat


def run_periodic_once(app: Flask) -> dict[str, int]:
    """Run every periodic task once, here and now; -1 marks one that failed."""
    celery_app = app.extensions["celery"]
    results: dict[str, int] = {}
    for name, entry in celery_app.conf.beat_schedule.items():
        task = celery_app.tasks[entry["task"]]
        outcome = task.apply(entry.get("args", ()), entry.get("kwargs", {}))
        results[name] = (outcome.result or 0) if outcome.successful() else -1
    return results
