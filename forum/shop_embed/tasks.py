"""Shop background tasks (scheduled in ``forum.tasks.beat_schedule``)."""

from celery import shared_task

from . import service


@shared_task(name="shop.expire_orders")
def expire_orders() -> int:
    """Cancel unpaid orders past their deadline; holds already stop counting without it."""
    return service.expire_due_orders()
