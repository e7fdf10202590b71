"""Attribution background tasks (scheduled in ``forum.tasks.beat_schedule``)."""

from celery import shared_task

from . import impressions, service


@shared_task(name="attribution.approve_commissions")
def approve_commissions() -> int:
    """Approve commissions past their lock period; each row and credit moves once."""
    return service.approve_due()


@shared_task(name="attribution.prune_impression_seen")
def prune_impression_seen() -> int:
    """Forget old per-reader impression marks; the counters keep the totals."""
    return impressions.prune_seen()
