"""Background jobs: small idempotent functions run every few seconds.

Jobs release expired holds, fail unfilled teams, send reminders. Correctness never
depends on a job having run (expired holds simply stop counting); jobs only tidy
up and announce. They run in ``flask jobs work`` (production: one such process),
or inside the server when ``JOBS_IN_PROCESS`` is true (development and demo).
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], int | None]


_JOBS: dict[str, Job] = {}


def job(name: str):
    """Register ``func`` as a periodic job; it returns how many things it handled."""

    def register(func):
        _JOBS[name] = Job(name, func)
        return func

    return register


def registered() -> list[Job]:
    return list(_JOBS.values())


def run_all(app: Flask) -> dict[str, int]:
    """Run every job once, each in its own app context and transaction."""
    from .extensions import db

    results: dict[str, int] = {}
    for item in registered():
        # A request context so services can build links (url_for) as they do in views.
        with app.test_request_context("/"):
            try:
                results[item.name] = item.func() or 0
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("job %s failed", item.name)
                results[item.name] = -1
            finally:
                db.session.remove()
    return results


def work_forever(app: Flask, interval: float, sleep=time.sleep) -> None:
    while True:
        run_all(app)
        sleep(interval)
