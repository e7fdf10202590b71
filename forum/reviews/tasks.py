"""Reviews background work: the reminder sweep (scheduled in ``forum.tasks.beat_schedule``).

Idempotent: each reminder is claimed by a conditional UPDATE before it goes out, so a
doubled, late or retried run reminds nobody twice; nothing else ever waits on it (the
invitation itself is written when the order completes; the emails of both are
campaigns' notification email)."""

from celery import shared_task

from . import service


@shared_task(name="reviews.send_reminders")
def send_reminders() -> int:
    """Remind buyers who have not reviewed a completed order a few days on, once."""
    return service.send_reminders()
