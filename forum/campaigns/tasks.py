"""Campaign and account-mail tasks: thin calls to the service (forum/tasks.py lists
this module and schedules ``campaigns.tick`` and ``campaigns.send_digests``)."""

import smtplib

from celery import shared_task

from .. import mail
from . import service

MAIL_ERRORS = (OSError, smtplib.SMTPException)


@shared_task(name="campaigns.plan")
def plan_campaign(campaign_id: int) -> int:
    """Plan a sending campaign into delivery rows and queue its batches (resumable)."""
    return service.plan(campaign_id)


@shared_task(
    name="campaigns.send_batch", autoretry_for=MAIL_ERRORS, retry_backoff=30, max_retries=5
)
def send_batch(campaign_id: int, first_user: int, last_user: int) -> int:
    """Send one page of a campaign; a retry finds its rows claimed and sends nobody twice."""
    return service.send_batch(campaign_id, first_user, last_user)


@shared_task(name="campaigns.tick")
def tick() -> int:
    return service.tick()


@shared_task(name="campaigns.send_notification_emails", autoretry_for=MAIL_ERRORS, max_retries=3)
def send_notification_emails() -> int:
    """The sweep behind "email at once" (each notification claimed before its send)."""
    return service.send_pending()


@shared_task(name="campaigns.send_digests")
def send_digests() -> int:
    return service.send_digests()


@shared_task(
    name="campaigns.send_account_mail",
    autoretry_for=MAIL_ERRORS,
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=6,
)
def send_account_mail(to: str, subject: str, text: str) -> bool:
    """A transactional message (verification, reset, email change)."""
    if not mail.enabled():
        return False
    mail.send_one(mail.message(to, subject, text))
    return True


@shared_task(name="campaigns.send_notification_email", autoretry_for=MAIL_ERRORS, max_retries=3)
def send_notification_email(notification_id: int) -> bool:
    return service.send_notification_email(notification_id)


@shared_task(name="campaigns.send_order_email", autoretry_for=MAIL_ERRORS, max_retries=3)
def send_order_email(order_id: int, event_type: str) -> int:
    return service.send_order_email(order_id, event_type)
