"""Delivering a campaign: plan the segment into delivery rows, then send in batches.

Planning streams the segment in keyset pages (``segments.stream``), so memory never
grows with the audience: each page's rows are inserted at once (``INSERT ... ON
CONFLICT DO NOTHING`` on (campaign, member)), the page's holdout picked, the progress
(``planned_through``) committed with them, and one batch task queued per page.

A batch **claims** its rows (``pending`` -> ``sending``, one conditional UPDATE, then
COMMIT) before it sends anything, so a retried or doubled batch finds them claimed
and sends nobody twice; a worker dying after the claim leaves rows ``sending``, which
``tick`` marks failed ("interrupted") after ``CAMPAIGN_CLAIM_TIMEOUT_MINUTES``:
at most once, never twice. Consent, suppression, the weekly frequency cap and SMS
quiet hours are checked on the claimed rows; a quiet-hours row goes back to
``pending`` with ``not_before`` (nothing was sent).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, func, or_, select, update

from ... import mail
from ...accounts.models import User
from ...clock import now
from ...database import insert_ignore, update_where
from ...extensions import db
from ...members import service as members
from ..models import Campaign, ContactSettings, Delivery, Suppression
from . import pacing, segments
from .campaigns import render_letter
from .contacts import marketing_email_allowed, sms_allowed

log = logging.getLogger(__name__)


def _setting(name: str):
    """A campaigns setting (its default is in forum/config.py Defaults)."""
    return current_app.config[name]


def holdout_picks(campaign_id: int, first_id: int, size: int, seen_before: int, bp: int) -> set:
    """Positions in this page kept as control: exactly floor(total * bp / 10000) over
    the whole campaign, chosen at random within each page, the same on a retry."""
    before = seen_before * bp // 10000
    after = (seen_before + size) * bp // 10000
    rng = random.Random(f"{campaign_id}:{first_id}")
    return set(rng.sample(range(size), after - before)) if after > before else set()


def plan(campaign_id: int) -> int:
    """Insert the delivery rows page by page and queue a batch per page; rows planned."""
    from ..tasks import send_batch

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "sending":
        return 0
    page = int(_setting("CAMPAIGN_BATCH_SIZE"))
    planned = 0
    if campaign.planned_at is None:
        rule = campaign.segment.rule
        at = campaign.started_at or now()
        for ids in segments.stream(rule, after_id=campaign.planned_through, page=page, at=at):
            picks = holdout_picks(campaign.id, ids[0], len(ids), campaign.seen, campaign.holdout_bp)
            rows = [
                {
                    "campaign_id": campaign.id,
                    "user_id": user_id,
                    "status": "holdout" if index in picks else "pending",
                    "reason": "",
                    "address": "",
                }
                for index, user_id in enumerate(ids)
            ]
            db.session.execute(
                insert_ignore(Delivery, None, index_elements=["campaign_id", "user_id"]), rows
            )
            moved = update_where(
                Campaign,
                Campaign.id == campaign.id,
                Campaign.planned_through == campaign.planned_through,
                Campaign.status == "sending",
                planned_through=ids[-1],
                seen=Campaign.seen + len(ids),
            )
            if moved != 1:  # paused, cancelled, or another planner took this page
                db.session.rollback()
                return planned
            db.session.commit()
            db.session.refresh(campaign)
            planned += len(ids)
            send_batch.delay(campaign.id, ids[0], ids[-1])
        update_where(
            Campaign, Campaign.id == campaign.id, Campaign.planned_at.is_(None), planned_at=now()
        )
        db.session.commit()
    else:
        requeue(campaign)
    finish_if_done(campaign.id)
    return planned


def requeue(campaign: Campaign, *, deferred_only: bool = False) -> int:
    """Queue batches for the campaign's due pending rows (resume, quiet hours ending);
    ``deferred_only``: just the rows quiet hours held back."""
    from ..tasks import send_batch

    page = int(_setting("CAMPAIGN_BATCH_SIZE"))
    at = now()
    last, queued = 0, 0
    while True:
        ids = list(
            db.session.scalars(
                select(Delivery.user_id)
                .where(
                    Delivery.campaign_id == campaign.id,
                    Delivery.status == "pending",
                    Delivery.user_id > last,
                    Delivery.not_before <= at
                    if deferred_only
                    else or_(Delivery.not_before.is_(None), Delivery.not_before <= at),
                )
                .order_by(Delivery.user_id)
                .limit(page)
            )
        )
        if not ids:
            return queued
        send_batch.delay(campaign.id, ids[0], ids[-1])
        queued += 1
        last = ids[-1]


def _claim(campaign_id: int, first_user: int, last_user: int, at: datetime) -> list[int]:
    due = and_(
        Delivery.campaign_id == campaign_id,
        Delivery.status == "pending",
        Delivery.user_id >= first_user,
        Delivery.user_id <= last_user,
        or_(Delivery.not_before.is_(None), Delivery.not_before <= at),
    )
    claimed = list(
        db.session.scalars(
            update(Delivery)
            .where(due)
            .values(status="sending", claimed_at=at)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.commit()  # the claim is durable before anything is sent
    return sorted(claimed)


def _quiet_until(timezone: str, at: datetime) -> datetime | None:
    """The end of the member's SMS quiet hours when ``at`` falls inside them, else None."""
    start = int(_setting("SMS_QUIET_START_HOUR"))
    end = int(_setting("SMS_QUIET_END_HOUR"))
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = at.astimezone(zone)
    quiet = (local.hour >= start or local.hour < end) if start > end else start <= local.hour < end
    if not quiet:
        return None
    day = local.date() if local.hour < end else local.date() + timedelta(days=1)
    wake = datetime(day.year, day.month, day.day, end, tzinfo=zone)
    return wake.astimezone(at.tzinfo)


def _sent_this_week(user_ids: list[int], at: datetime) -> dict[int, int]:
    rows = db.session.execute(
        select(Delivery.user_id, func.count())
        .where(
            Delivery.user_id.in_(user_ids),
            Delivery.status == "sent",
            Delivery.sent_at > at - timedelta(days=7),
        )
        .group_by(Delivery.user_id)
    ).tuples()
    return dict(rows.all())


@dataclass(frozen=True)
class Recipient:
    id: int  # the delivery
    credit_cents: int


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    email: str
    tier: str
    timezone: str


@dataclass(frozen=True)
class Contact:
    user_id: int | None
    marketing_email: bool | None
    email_verified_at: datetime | None
    marketing_sms: bool | None
    phone: str | None
    phone_verified_at: datetime | None
    track_opens: bool | None


def _mark(ids: list[int], status: str, reason: str = "", **values) -> None:
    if ids:
        update_where(Delivery, Delivery.id.in_(ids), status=status, reason=reason[:200], **values)


def send_batch(campaign_id: int, first_user: int, last_user: int) -> int:
    """Send the campaign's pending rows for members ``first_user..last_user``; how many
    were sent. A paused or cancelled campaign sends nothing (its rows stay pending)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "sending":
        return 0
    at = now()
    claimed = _claim(campaign_id, first_user, last_user, at)
    if not claimed:
        finish_if_done(campaign_id)
        return 0
    # Plain rows (not ORM objects): commits below would expire objects and reload each.
    rows = [
        (Recipient(delivery_id, credit or 0), Member(*member), Contact(*contact))
        for delivery_id, credit, *rest in db.session.execute(
            select(
                Delivery.id,
                members.credit_sql(User.id),
                User.id,
                User.username,
                User.email,
                User.tier,
                User.timezone,
                ContactSettings.user_id,
                ContactSettings.marketing_email,
                ContactSettings.email_verified_at,
                ContactSettings.marketing_sms,
                ContactSettings.phone,
                ContactSettings.phone_verified_at,
                ContactSettings.track_opens,
            )
            .join(User, User.id == Delivery.user_id)
            .outerjoin(ContactSettings, ContactSettings.user_id == User.id)
            .where(Delivery.id.in_(claimed))
            .order_by(Delivery.id)
        ).all()
        for member, contact in [(rest[:5], rest[5:])]
    ]
    rows = [(d, m, c if c.user_id is not None else None) for d, m, c in rows]
    cap = int(_setting("CAMPAIGN_FREQUENCY_CAP_PER_WEEK"))
    counts = _sent_this_week([user.id for _d, user, _c in rows], at)
    suppressed = set(
        db.session.scalars(
            select(Suppression.address).where(
                Suppression.address.in_([user.email.lower() for _d, user, _c in rows])
            )
        )
    )
    skipped: dict[str, list[int]] = {}
    deferred: dict[datetime, list[int]] = {}
    ready = []
    for delivery, user, contact in rows:
        reason = None
        if campaign.channel == "email":
            if not marketing_email_allowed(contact):
                reason = "no_consent"
            elif contact is None or contact.email_verified_at is None:
                reason = "email_not_verified"
            elif user.email.lower() in suppressed:
                reason = "suppressed"
        elif not sms_allowed(contact):
            reason = "no_consent"
        if reason is None and counts.get(user.id, 0) >= cap:
            reason = "frequency_cap"
        if reason is None and campaign.channel == "sms":
            wake = _quiet_until(user.timezone, at)
            if wake is not None:
                deferred.setdefault(wake, []).append(delivery.id)
                continue
        if reason:
            skipped.setdefault(reason, []).append(delivery.id)
        else:
            ready.append((delivery, user, contact))
    for reason, ids in skipped.items():
        _mark(ids, "skipped", reason)
    for wake, ids in deferred.items():
        _mark(ids, "pending", "quiet_hours", not_before=wake, claimed_at=None)
    db.session.commit()
    sent, failed = (_send_email if campaign.channel == "email" else _send_sms)(campaign, ready)
    stamp = now()
    _mark(sent, "sent", "", sent_at=stamp)
    for reason, ids in failed.items():
        _mark(ids, "failed", reason)
    db.session.commit()
    finish_if_done(campaign_id)
    return len(sent)


def _letters(campaign: Campaign, ready):
    """Each ready delivery with its member's letter, rendered as it is reached (one
    cache of what every letter of the campaign shares)."""
    cache: dict = {}
    for delivery, user, contact in ready:
        letter = render_letter(
            campaign,
            user,
            delivery_id=delivery.id,
            contact=contact,
            credit_cents=delivery.credit_cents,
            cache=cache,
        )
        yield delivery, user, contact, letter


def _send_email(campaign: Campaign, ready) -> tuple[list[int], dict[str, list[int]]]:
    letters = []
    addresses = {}
    for delivery, user, _contact, letter in _letters(campaign, ready):
        letters.append(
            (
                delivery.id,
                mail.message(
                    user.email,
                    letter.subject,
                    letter.text,
                    html=letter.html,
                    headers=letter.headers,
                ),
            )
        )
        addresses[delivery.id] = user.email
    if not letters:
        return [], {}
    db.session.execute(
        update(Delivery.__table__)
        .where(Delivery.__table__.c.id == bindparam("delivery_id"))
        .values(address=bindparam("to")),
        [{"delivery_id": key, "to": value} for key, value in addresses.items()],
    )
    wait = pacing.pacer("email")
    try:
        if pacing.rate_of("email") > 0:
            result = mail.BatchResult()
            for key, letter in letters:
                wait()
                one = mail.send_batch([(key, letter)])
                result.sent += one.sent
                result.failed.update(one.failed)
        else:
            result = mail.send_batch(letters)
    except Exception as exc:  # the server cannot be reached: every claimed row fails
        reason = f"{type(exc).__name__}: {exc}"[:200]
        log.warning("campaign %s: mail server unreachable: %s", campaign.id, reason)
        return [], {reason: [key for key, _ in letters]}
    failed: dict[str, list[int]] = {}
    for key, reason in result.failed.items():
        failed.setdefault(reason, []).append(key)
    return result.sent, failed


def _send_sms(campaign: Campaign, ready) -> tuple[list[int], dict[str, list[int]]]:
    from ..sms import SmsError, provider

    sent: list[int] = []
    failed: dict[str, list[int]] = {}
    if not ready:
        return sent, failed
    sender = provider()
    wait = pacing.pacer("sms")
    for delivery, _user, contact, letter in _letters(campaign, ready):
        wait()
        try:
            sender.send(contact.phone, letter.text, campaign_id=campaign.id)
        except SmsError as exc:
            failed.setdefault(str(exc)[:200], []).append(delivery.id)
            continue
        update_where(Delivery, Delivery.id == delivery.id, address=contact.phone)
        sent.append(delivery.id)
    return sent, failed


def finish_if_done(campaign_id: int) -> bool:
    """``sending`` -> ``sent`` once planned and nothing is pending or being sent."""
    open_rows = (
        select(Delivery.id)
        .where(Delivery.campaign_id == campaign_id, Delivery.status.in_(("pending", "sending")))
        .exists()
    )
    moved = update_where(
        Campaign,
        Campaign.id == campaign_id,
        Campaign.status == "sending",
        Campaign.planned_at.is_not(None),
        ~open_rows,
        status="sent",
        finished_at=now(),
    )
    db.session.commit()
    return moved == 1


def tick() -> int:
    """The periodic sweep: start due scheduled campaigns, fail stale claims, re-queue
    due pending rows (quiet hours over, a lost task), finish what is done."""
    from ..tasks import plan_campaign

    at = now()
    started = 0
    for campaign_id in db.session.scalars(
        select(Campaign.id).where(Campaign.status == "scheduled", Campaign.scheduled_at <= at)
    ).all():
        moved = update_where(
            Campaign,
            Campaign.id == campaign_id,
            Campaign.status == "scheduled",
            status="sending",
            started_at=at,
        )
        db.session.commit()
        if moved:
            started += 1
            plan_campaign.delay(campaign_id)
    stale = at - timedelta(minutes=float(_setting("CAMPAIGN_CLAIM_TIMEOUT_MINUTES")))
    update_where(
        Delivery,
        Delivery.status == "sending",
        Delivery.claimed_at < stale,
        status="failed",
        reason="interrupted (the worker stopped after claiming)",
    )
    db.session.commit()
    for campaign in db.session.scalars(select(Campaign).where(Campaign.status == "sending")).all():
        if campaign.planned_at is None:
            if campaign.started_at and campaign.started_at < stale:
                plan_campaign.delay(campaign.id)  # a planner that died
            continue
        # Fresh campaigns still have their batches queued: only the deferred rows are due.
        requeue(campaign, deferred_only=campaign.planned_at > stale)
        finish_if_done(campaign.id)
    return started
