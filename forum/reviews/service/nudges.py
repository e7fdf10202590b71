"""The nudge: an invitation to review when an order completes, one reminder a few days
later if nothing was reviewed, none after.

The invitation is an in-app notification written in the completing transaction (a
``ReviewInvitation`` row per order makes it once only). The reminder sweep
(``reviews.send_reminders``, a periodic task) claims each due invitation with a
conditional UPDATE on ``reminded_at``, so two runs never remind twice. With
``MAIL_SERVER`` set, the sweep also mails each invitation and reminder once (claimed
by ``invite_mailed_at`` / ``reminder_mailed_at`` before sending, as events do);
without it the notifications are all there is.
"""

import logging
from datetime import timedelta

from flask import current_app, url_for
from flask_mailman import EmailMessage
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from ...accounts.models import User
from ...clock import now
from ...extensions import db
from ...notifications import service as notifications
from ...shop_embed import service as shop
from ..models import Review, ReviewInvitation
from . import rewards
from .common import setting

log = logging.getLogger(__name__)
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
    try:
        with db.session.begin_nested():
            db.session.add(
                ReviewInvitation(order_id=order.id, buyer_id=order.buyer_id, invited_at=now())
            )
            db.session.flush()
    except IntegrityError:
        return False
    notifications.notify(order.buyer_id, "review_invite", invitation_text(order), invite_url(order))
    return True


def _reviewed(order_id_column):
    return exists().where(Review.order_id == order_id_column)


def send_reminders(batch: int = 500) -> int:
    """Remind buyers who were invited ``REVIEW_REMINDER_DAYS`` ago and reviewed nothing
    of that order, once each; returns how many were reminded. Then mails what is due."""
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
    if current_app.config.get("MAIL_SERVER"):
        mail_due()
    return reminded


def mail_due(batch: int = 200) -> int:
    """Mail each invitation and reminder not mailed yet (only with MAIL_SERVER)."""
    sent = 0
    for column, sent_column, reminder in (
        (ReviewInvitation.invited_at, ReviewInvitation.invite_mailed_at, False),
        (ReviewInvitation.reminded_at, ReviewInvitation.reminder_mailed_at, True),
    ):
        ids = db.session.scalars(
            select(ReviewInvitation.order_id)
            .where(
                column.is_not(None),
                sent_column.is_(None),
                column > now() - timedelta(days=REMINDER_WINDOW_DAYS),
                ~_reviewed(ReviewInvitation.order_id),
            )
            .limit(batch)
        ).all()
        for order_id in ids:
            sent += email_nudge(order_id, reminder=reminder)
    return sent


def email_nudge(order_id: int, *, reminder: bool) -> bool:
    """Mail one invitation (or reminder) at most once: claimed and committed before it
    goes out; a failed send gives the claim back for the next sweep."""
    if not current_app.config.get("MAIL_SERVER"):
        return False
    column = "reminder_mailed_at" if reminder else "invite_mailed_at"
    at = now()
    claimed = db.session.execute(
        update(ReviewInvitation)
        .where(
            ReviewInvitation.order_id == order_id,
            getattr(ReviewInvitation, column).is_(None),
        )
        .values({column: at})
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return False
    order = shop.find_order(order_id)
    buyer = db.session.get(User, order.buyer_id)
    message = EmailMessage(
        subject="How was your order?" if not reminder else "A reminder: how was your order?",
        body=(
            f"Hi {buyer.username},\n\n{invitation_text(order, reminder=reminder)}\n\n"
            f"{url_for('reviews.write', order_id=order.id, _external=True)}\n\n"
            "Rewards are the same whatever you rate, and rewarded reviews are labelled.\n"
        ),
        from_email=current_app.config["MAIL_DEFAULT_SENDER"],
        to=[buyer.email],
    )
    try:
        message.send()
    except Exception:
        db.session.rollback()
        db.session.execute(
            update(ReviewInvitation)
            .where(
                ReviewInvitation.order_id == order_id,
                getattr(ReviewInvitation, column) == at,
            )
            .values({column: None})
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        log.warning("review email for order %s failed; the next sweep retries", order_id)
        return False
    return True
