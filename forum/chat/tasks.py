"""Chat background tasks (scheduled in ``forum.tasks.beat_schedule``)."""

from celery import shared_task

from . import service


@shared_task(name="chat.sweep_connections")
def sweep_connections() -> int:
    """Close sockets whose session ended and forget silent ones; presence reads the TTL anyway."""
    return service.sweep_connections()
