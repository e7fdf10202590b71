"""Promotion background tasks (scheduled in ``forum.tasks.beat_schedule``)."""

from celery import shared_task

from . import service


@shared_task(name="promotions.settle_teams")
def settle_teams() -> int:
    """Settle teams past their deadline; reads already show them settled without it."""
    return service.settle_due_teams()
