"""Recommendation background task (scheduled in ``forum.tasks.beat_schedule``).
Idempotent: each run replaces every list in one transaction from the same history."""

from celery import shared_task

from . import service


@shared_task(name="recommend.recompute")
def recompute() -> int:
    """Recompute every member's "For you", the popular lists and Suggested threads."""
    return service.recompute()
