"""Trust background tasks (scheduled in ``forum.tasks.beat_schedule``). Idempotent: a
promotion is a conditional UPDATE, so a doubled run promotes and notifies once."""

from celery import shared_task

from . import service


@shared_task(name="trust.evaluate_levels")
def evaluate_levels() -> int:
    """Promote members whom time alone moved past a rule (account age, the recent window)."""
    return service.evaluate_all()
