"""Trust background tasks (scheduled in ``forum.tasks.beat_schedule``). Idempotent: a
promotion is a conditional UPDATE, so a doubled run promotes and notifies once."""

from celery import shared_task

from ..extensions import db
from . import service


@shared_task(name="trust.evaluate_levels")
def evaluate_levels() -> int:
    """Promote members whom time alone moved past a rule (account age, the recent window)."""
    return service.evaluate_all()


@shared_task(name="trust.award_badges")
def award_badges() -> int:
    """Badges whose rule moves without a signal (helpful votes on reviews)."""
    awarded = service.award_trusted_reviewers()
    db.session.commit()
    return awarded
