"""Member background tasks (scheduled in ``forum.tasks.beat_schedule``). Each is idempotent
and nothing depends on it having run: reads count due rebates, expired points and the
computed tier as they are."""

from celery import shared_task

from . import service


@shared_task(name="members.evaluate_tiers")
def evaluate_tiers() -> int:
    """Store tier moves that time made (a VIP window or grace ending, a grant lapsing)."""
    return service.evaluate_all()


@shared_task(name="members.release_rebates")
def release_rebates() -> int:
    """Move VIP rebates past their lock period into the wallets."""
    return service.release_due_rebates()


@shared_task(name="members.expire_points")
def expire_points() -> int:
    """Close points lots past their expiry, oldest first."""
    return service.expire_points()
