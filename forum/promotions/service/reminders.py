""" "Remind me": a member asks to be told when an upcoming snap-up or auction starts, or
shortly before a guessing game closes.

A reminder is a row with ``remind_at``; the ``promotions.send_reminders`` job (every
minute) notifies the due ones, each exactly once (a conditional UPDATE of ``sent_at``).
Nothing depends on the job being on time: a late run still sends each reminder once,
and one that comes after its offer is over is marked sent without telling anyone.
"""

from datetime import timedelta

from flask import url_for
from sqlalchemy import select, update

from ...clock import now
from ...database import insert_ignore
from ...errors import Conflict, NotFound, ValidationFailed
from ...extensions import db
from ...notifications import service as notifications
from ..models import Auction, GuessGame, Reminder, Snap
from .common import check_can_act, one_by_one

KINDS = ("snap", "auction", "guess")
GAME_LEAD = timedelta(minutes=15)  # a game's reminder: this long before it closes


def _offer(kind: str, offer_id: int):
    model = {"snap": Snap, "auction": Auction, "guess": GuessGame}[kind]
    offer = db.session.get(model, offer_id)
    if offer is None:
        raise NotFound("No such offer.")
    return offer


def _moments(kind: str, offer) -> tuple:
    """(when to remind, when it is over) for an offer."""
    if kind == "guess":
        return max(offer.created_at, offer.closes_at() - GAME_LEAD), offer.closes_at()
    return offer.starts_at, offer.closes_at()


def _label(kind: str, offer) -> tuple[str, str]:
    name = offer.product.name
    if kind == "snap":
        return f"The snap-up of {name} has started.", url_for("promotions.snap", snap_id=offer.id)
    if kind == "auction":
        return (
            f"The Dutch auction of {name} has started: the price is falling.",
            url_for("promotions.auction", auction_id=offer.id),
        )
    return (
        f"The guessing game for {name} closes soon: make your guesses.",
        url_for("promotions.guess_game", game_id=offer.id),
    )


def remind_me(user, kind, offer_id) -> Reminder:
    """Ask for a reminder; asking twice returns the first. Raises ValidationFailed (kind),
    NotFound (offer), Conflict ``already_started`` (the moment has passed), Forbidden."""
    check_can_act(user)
    if kind not in KINDS:
        raise ValidationFailed(fields={"kind": [f"Use one of {', '.join(KINDS)}."]})
    if isinstance(offer_id, bool) or not isinstance(offer_id, int):
        raise ValidationFailed(fields={"id": ["Name the offer."]})
    offer = _offer(kind, offer_id)
    remind_at, _ = _moments(kind, offer)
    if remind_at <= now():
        raise Conflict("It has already started.", code="already_started")
    db.session.execute(
        insert_ignore(
            Reminder,
            {
                "user_id": user.id,
                "kind": kind,
                "offer_id": offer_id,
                "remind_at": remind_at,
                "created_at": now(),
            },
        )
    )
    return db.session.scalar(
        select(Reminder).where(
            Reminder.user_id == user.id, Reminder.kind == kind, Reminder.offer_id == offer_id
        )
    )


def reschedule(kind: str, offer) -> None:
    """The offer's moments moved (a merchant's edit before the start): its unsent
    reminders follow."""
    remind_at, _ = _moments(kind, offer)
    db.session.execute(
        update(Reminder)
        .where(Reminder.kind == kind, Reminder.offer_id == offer.id, Reminder.sent_at.is_(None))
        .values(remind_at=remind_at)
        .execution_options(synchronize_session=False)
    )


def has_reminder(user, kind: str, offer_id: int) -> bool:
    if not user or not getattr(user, "is_authenticated", False):
        return False
    return (
        db.session.scalar(
            select(Reminder.id).where(
                Reminder.user_id == user.id, Reminder.kind == kind, Reminder.offer_id == offer_id
            )
        )
        is not None
    )


def send_reminder(reminder: Reminder) -> bool:
    """Notify one due reminder, once; True when this call told the member."""
    at = now()
    claimed = db.session.execute(
        update(Reminder)
        .where(Reminder.id == reminder.id, Reminder.sent_at.is_(None), Reminder.remind_at <= at)
        .values(sent_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return False
    offer = _offer(reminder.kind, reminder.offer_id)
    _, over_at = _moments(reminder.kind, offer)
    if over_at <= at:
        return False  # too late to be useful: marked sent, nobody is told
    text, url = _label(reminder.kind, offer)
    notifications.notify(reminder.user_id, "offer_reminder", text, url, offer_id=offer.id)
    return True


def send_due_reminders(limit: int = 500) -> int:
    """Every reminder due now, each in its own transaction. Idempotent."""
    due = db.session.scalars(
        select(Reminder.id)
        .where(Reminder.sent_at.is_(None), Reminder.remind_at <= now())
        .order_by(Reminder.remind_at, Reminder.id)
        .limit(limit)
    ).all()
    return one_by_one(due, lambda reminder_id: send_reminder(db.session.get(Reminder, reminder_id)))
