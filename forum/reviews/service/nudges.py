"""The nudge: an invitation to review when an order completes, one reminder a few days
later if nothing was reviewed, none after.

The invitation is an in-app notification written in the completing transaction (a
``ReviewInvitation`` row per order makes it once only). The reminder sweep
(``reviews.send_reminders``, a periodic task) claims each due invitation with a
conditional UPDATE on ``reminded_at``, so two runs never remind twice.

The email is the project's one notification-email path, not a mailer of its own: the
``review_invite`` and ``review_reminder`` notifications are of campaigns' "review"
kind, so ``signals.notification_created`` has campaigns email each once, after the
commit, where mail is configured, to a verified address, unless the member chose the
digest or "off" for it; its link opens the notification (marked read) and lands on the
review composer.
"""

from datetime import timedelta

from flask import url_for
from sqlalchemy import exists, select, update

from ...clock import now
from ...database import add_unique
from ...extensions import db
from ...notifications import service as notifications
from ...shop_embed import service as shop
from ..models import Review, ReviewInvitation
from . import rewards
from .common import setting

REMINDER_WINDOW_DAYS = 30  # an invitation older than this is never reminded


def reminder_after() -> timedelta:
    return timedelta(days=setting("REVIEW_REMINDER_DAYS", 3))


def invite_url(order) -> str:
    return url_for("reviews.write", order_id=order.id)


def invitation_text(order, *, reminder: bool = False) -> str:
    names = ", ".join(item.name for item in order.items[:2])
    if len(order.items) > 2:
        names += f" and {len(order.items) - 2} more"
    reward = rewards.describe(rewards.reward_for("review", order.merchant_id), order.currency)
    earn = f" and earn {reward}" if reward else ""
    if reminder:
        return f"Reminder: how was {names}? Review your purchase{earn}."
    return f"How was {names}? Review your purchase{earn}."


def invite(order) -> bool:
    """On completion: notify the buyer once per order (True when this call did)."""
    if not add_unique(
        ReviewInvitation(order_id=order.id, buyer_id=order.buyer_id, invited_at=now())
    ):
        return False
    notifications.notify(order.buyer_id, "review_invite", invitation_text(order), invite_url(order))
    return True


def _reviewed(order_id_column):
    return exists().where(Review.order_id == order_id_column)


def send_reminders(batch: int = 500) -> int:
    """Remind buyers who were invited ``REVIEW_REMINDER_DAYS`` ago and reviewed nothing
    of that order, once each; returns how many were reminded."""
    at = now()
    due = db.session.scalars(
        select(ReviewInvitation.order_id)
        .where(
            ReviewInvitation.reminded_at.is_(None),
            ReviewInvitation.invited_at <= at - reminder_after(),
            ReviewInvitation.invited_at > at - timedelta(days=REMINDER_WINDOW_DAYS),
            ReviewInvitation.order_id.in_(shop.completed_order_ids()),
            ~_reviewed(ReviewInvitation.order_id),
        )
        .order_by(ReviewInvitation.invited_at)
        .limit(batch)
    ).all()
    reminded = 0
    for order_id in due:
        claimed = db.session.execute(
            update(ReviewInvitation)
            .where(ReviewInvitation.order_id == order_id, ReviewInvitation.reminded_at.is_(None))
            .values(reminded_at=at)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        order = shop.find_order(order_id)
        notifications.notify(
            order.buyer_id,
            "review_reminder",
            invitation_text(order, reminder=True),
            invite_url(order),
        )
        reminded += 1
    db.session.commit()
    return reminded
