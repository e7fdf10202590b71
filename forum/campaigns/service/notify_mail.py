"""Notification email: each bell notification (and order events) by email as the member
chose per type (instant, in the digest, or off), with a one-click unsubscribe for that
type; the daily or weekly digest of what they missed.

Each notification is emailed at most once (``NotificationEmail`` keyed by it, inserted
before the send); the digest takes only notifications not yet emailed.
"""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import bindparam, select

from ... import mail, realtime
from ...accounts.models import User
from ...chat import service as chat
from ...clock import now
from ...database import insert_ignore, prepared
from ...extensions import db
from ...notifications import service as notifications
from ..models import ContactSettings, NotificationEmail, Suppression
from .bounces import tag_headers
from .contacts import NOTIFICATION_KINDS, unsubscribe_token

# The bell's kinds -> the preference they fall under (others are not emailed).
KIND_OF = {
    "mention": "mention",
    "chat_mention": "mention",
    "reply": "reply",
    "chat_direct": "dm",
    "event_cancelled": "event",
    "event_changed": "event",
    "event_message": "event",
    "event_promoted": "event",
    "event_removed": "event",
    "review_invite": "review",  # reviews' nudge: the invitation and its one reminder
    "review_reminder": "review",
}
AWAY_SECONDS = 120  # a DM is emailed only when no chat socket was seen this recently
DIGEST_PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


def preference(row: ContactSettings | None, kind: str) -> str:
    return ((row.notification_prefs or {}) if row else {}).get(kind, "instant")


def _reachable(user: User) -> bool:
    """Mail works, the address is verified and not suppressed."""
    row = db.session.get(ContactSettings, user.id)
    return (
        mail.enabled()
        and row is not None
        and row.email_verified_at is not None
        and db.session.scalar(
            select(Suppression.id).where(Suppression.address == user.email.lower())
        )
        is None
    )


def on_notification(item) -> None:
    """``signals.notification_created``: queue its email (after commit) when wanted."""
    kind = KIND_OF.get(item.kind)
    if kind is None:
        return
    row = db.session.get(ContactSettings, item.user_id)
    if row is None or row.email_verified_at is None or preference(row, kind) != "instant":
        return  # (the sweep, ``send_pending``, catches any queued send that is lost)
    from ..tasks import send_notification_email

    realtime.after_commit(send_notification_email.delay, item.id)


def _letter(user: User, kind: str, subject: str, lines: list[str]):
    token = unsubscribe_token(user.id, f"notify:{kind}")
    unsubscribe = url_for("campaigns.unsubscribe", token=token, _external=True)
    one_click = url_for("api.one_click_unsubscribe", token=token, _external=True)
    preferences = url_for("campaigns.preferences", _external=True)
    text = (
        f"Hi {user.username},\n\n" + "\n".join(lines) + f"\n\n--\nEmail settings: {preferences}\n"
        f"Stop emails about {NOTIFICATION_KINDS[kind].lower()}: {unsubscribe}\n"
    )
    return mail.message(
        user.email,
        subject,
        text,
        headers={
            "List-Unsubscribe": f"<{one_click}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            **tag_headers(user.email),
        },
    )


def send_notification_email(notification_id: int) -> bool:
    """Email one notification at most once; True when this call sent it."""
    item = notifications.find_notification(notification_id)
    if item is None or item.read_at is not None:
        return False
    kind = KIND_OF.get(item.kind)
    user = db.session.get(User, item.user_id)
    if kind is None or user is None or not _reachable(user):
        return False
    if preference(db.session.get(ContactSettings, user.id), kind) != "instant":
        return False
    if kind == "dm" and _online(user.id):
        return False
    claimed = db.session.execute(
        insert_ignore(
            NotificationEmail,
            {"notification_id": item.id, "user_id": user.id, "sent_at": now()},
        ).returning(NotificationEmail.notification_id)
    ).scalar()
    db.session.commit()
    if claimed is None:
        return False
    link = url_for("notifications.open", notification_id=item.id, _external=True)
    mail.send_one(_letter(user, kind, item.text[:150], [item.text, "", link]))
    return True


def send_pending(batch: int = 200) -> int:
    """The sweep behind "at once": unread notifications of the last day that were not
    emailed yet, each through ``send_notification_email`` (which claims it first, so a
    queued task and the sweep never both send). How many were sent."""
    emailed = select(NotificationEmail.notification_id)
    verified = select(ContactSettings.user_id).where(ContactSettings.email_verified_at.is_not(None))
    due = notifications.unread_ids(
        kinds=KIND_OF, since=now() - timedelta(days=1), users=verified, skip=emailed, limit=batch
    )
    return sum(1 for notification_id in due if send_notification_email(notification_id))


def _online(user_id: int) -> bool:
    return chat.connected_since(user_id, now() - timedelta(seconds=AWAY_SECONDS))


def on_order_changed(order, *, event) -> None:
    """Buyers hear of their order being placed, paid and shipped; merchants of new orders."""
    from ..tasks import send_order_email

    if event.type not in ("placed", "paid", "shipped"):
        return
    wanted = [order.buyer_id] + ([order.merchant.user_id] if event.type == "placed" else [])
    verified = db.session.scalar(_any_verified(), {"ids": wanted})
    if verified is not None:  # nobody to mail otherwise: no task at all
        realtime.after_commit(send_order_email.delay, order.id, event.type)


@prepared
def _any_verified():
    """One of ``ids`` with a verified email address, if any (asked on every order placed
    and paid, so built once)."""
    return (
        select(ContactSettings.user_id)
        .where(
            ContactSettings.user_id.in_(bindparam("ids", expanding=True)),
            ContactSettings.email_verified_at.is_not(None),
        )
        .limit(1)
    )


def send_order_email(order_id: int, event_type: str) -> int:
    from ...shop_embed import service as shop

    order = shop.find_order(order_id)
    if order is None:
        return 0
    sent = 0
    buyer = order.buyer
    link = url_for("shop_embed.order", order_id=order.id, _external=True)
    wanted = [(buyer, "order", f"Your order #{order.id} was {event_type}", link)]
    if event_type == "placed":
        owner = order.merchant.user
        wanted.append(
            (owner, "merchant_order", f"New order #{order.id} in {order.merchant.name}", link)
        )
    for user, kind, subject, href in wanted:
        row = db.session.get(ContactSettings, user.id)
        if preference(row, kind) != "instant" or not _reachable(user):
            continue
        mail.send_one(_letter(user, kind, subject, [subject + ".", "", href]))
        sent += 1
    return sent


def send_digests(batch: int = 200) -> int:
    """Members whose digest is due get one email of what they missed (not yet emailed,
    unread, in a kind they chose "digest" or "instant" for); how many digests went out."""
    at = now()
    sent = 0
    rows = db.session.scalars(
        select(ContactSettings).where(ContactSettings.digest.in_(tuple(DIGEST_PERIOD))).limit(batch)
    ).all()
    for row in rows:
        period = DIGEST_PERIOD[row.digest]
        since = row.last_digest_at or (at - timedelta(days=7))  # a first digest looks back a week
        if row.last_digest_at and at - row.last_digest_at < period:
            continue
        user = db.session.get(User, row.user_id)
        if user is None or not _reachable(user):
            continue
        emailed = select(NotificationEmail.notification_id)
        items = notifications.unread_of(user.id, since=since, skip=emailed, limit=50)
        items = [i for i in items if preference(row, KIND_OF.get(i.kind, "")) != "off"]
        row.last_digest_at = at
        if not items:
            db.session.commit()
            continue
        for item in items:
            db.session.execute(
                insert_ignore(
                    NotificationEmail,
                    {"notification_id": item.id, "user_id": user.id, "sent_at": at},
                )
            )
        db.session.commit()
        lines = [f"- {item.text}" for item in items]
        mail.send_one(
            mail.message(
                user.email,
                f"What you missed on Plaza ({len(items)})",
                f"Hi {user.username},\n\n"
                + "\n".join(lines)
                + f"\n\n--\nEmail settings: {url_for('campaigns.preferences', _external=True)}\n",
                headers=tag_headers(user.email),
            )
        )
        sent += 1
    return sent
