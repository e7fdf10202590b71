"""Event background tasks: the reminder and attendance sweeps (scheduled in
``forum.tasks.beat_schedule``) and the reminder email each claimed sign-up queues."""

import smtplib

from celery import shared_task

from . import service


@shared_task(name="events.send_reminders")
def send_reminders() -> int:
    """In-app reminders, once per sign-up; emails go out as tasks of their own."""
    return service.send_reminders()


@shared_task(name="events.record_no_shows")
def record_no_shows() -> int:
    """Mark confirmed members who never checked in as no-shows once the event ended."""
    return service.record_no_shows()


@shared_task(
    name="events.send_reminder_email",
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=30,  # 30 s, 60 s, 120 s ... while the mail server is down
    retry_backoff_max=3600,
    max_retries=6,
)
def send_reminder_email(signup_id: int) -> bool:
    """Email one reminder at most once (the sign-up's claim makes a retry a no-op)."""
    return service.email_reminder(signup_id)
