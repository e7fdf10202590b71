"""Sign-ups: a registration a touch led to is a candidate; a person's first act converts it."""

from datetime import datetime, timedelta

from flask import has_request_context, request
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from ...accounts.models import User
from ...clock import now
from ...errors import Conflict, NotFound, field_error
from ...extensions import db
from ...trust import service as trust
from .. import links
from ..models import (
    Click,
    SignupCandidate,
)
from .clicks import _claim_statement, claim_visitor
from .common import PERSON_ACTIVITIES, _check_ids, _insert_once, log, setting
from .conversions import latest_touch, no_waiting_signup, record_action
from .merchants import check_merchant


def on_registered(user: User) -> None:
    """A new account (``signals.user_registered``, sent in the registration's transaction).

    Claims the browser's anonymous clicks for the new account and, when a touch
    leads to a merchant, notes a sign-up *candidate*: no CPA yet. It becomes the
    merchant's ``signup`` conversion when the account first acts like a person
    (``on_person_activity``), after the merchant's review when the velocity rules
    find it suspicious. A failure here is logged and never stops the registration.
    """
    if not has_request_context():
        return
    try:
        with db.session.begin_nested():
            visitor = links.visitor_id()
            if visitor:
                claim_visitor(user.id, visitor)
            at = now()
            touch = latest_touch(user.id, at)
            if touch is not None:
                _note_candidate(user.id, touch, links.fingerprint(request.remote_addr), at)
    except SQLAlchemyError:
        log.exception("attribution: could not attribute the registration of user %s", user.id)


# --- sign-ups: only a person's account converts, suspicious ones wait for review -------


def _note_candidate(user_id: int, touch: Click, ip_hash: str, at: datetime) -> None:
    """Record the registration and what the velocity rules make of it (decided once, here)."""
    since = at - timedelta(hours=int(setting("ATTRIBUTION_SIGNUP_VELOCITY_HOURS")))
    recent = select(func.count()).where(
        SignupCandidate.registered_at > since, SignupCandidate.registered_at <= at
    )
    same_address = db.session.scalar(recent.where(SignupCandidate.ip_hash == ip_hash)) or 0
    same_link = (
        db.session.scalar(
            recent.where(
                SignupCandidate.source_kind == touch.source_kind,
                SignupCandidate.source_id == touch.source_id,
                SignupCandidate.embed_kind == touch.embed_kind,
                SignupCandidate.embed_id == touch.embed_id,
            )
        )
        or 0
    )
    reason = None
    if same_address >= int(setting("ATTRIBUTION_SIGNUPS_PER_ADDRESS")):
        reason = "address"
    elif same_link >= int(setting("ATTRIBUTION_SIGNUPS_PER_LINK")):
        reason = "link"
    _insert_once(
        SignupCandidate,
        {
            "user_id": user_id,
            "merchant_id": touch.merchant_id,
            "click_id": touch.id,
            "source_kind": touch.source_kind,
            "source_id": touch.source_id,
            "author_id": touch.author_id,
            "embed_kind": touch.embed_kind,
            "embed_id": touch.embed_id,
            "ip_hash": ip_hash,
            "registered_at": at,
            "review_reason": reason,
            "status": "waiting",
        },
        ["user_id"],
    )


def _convert_signup(candidate_user_id: int, merchant_id: int, registered_at: datetime) -> None:
    record_action(
        "signup",
        user_id=candidate_user_id,
        merchant_id=merchant_id,
        key=f"user:{candidate_user_id}",
        occurred_at=registered_at,
    )


def on_person_activity(user_id: int, activity: str) -> str | None:
    """The account did something a person does (``post``, paid ``order``, verified ``email``).

    A waiting sign-up candidate converts now (the merchant's ``signup`` CPA), or,
    when the velocity rules flagged it, is held for the merchant's review. Only
    the first activity counts; returns the candidate's new status, or None when
    there was nothing waiting. The move is a conditional UPDATE, so two
    activities at once convert it once.
    """
    if activity not in PERSON_ACTIVITIES:
        raise field_error("activity", f"Use one of {', '.join(PERSON_ACTIVITIES)}.")
    if no_waiting_signup(user_id):  # read with the order's conversion: nothing to move
        return None
    if not trust.may_earn_id(user_id, "referral"):
        # The sign-up CPA waits until the member passes the referral gate (a later act).
        return None
    at = now()
    row = db.session.execute(
        update(SignupCandidate)
        .where(SignupCandidate.user_id == user_id, SignupCandidate.status == "waiting")
        .values(
            status=case((SignupCandidate.review_reason.is_(None), "converted"), else_="held"),
            activity=activity,
            active_at=at,
        )
        .returning(
            SignupCandidate.status, SignupCandidate.merchant_id, SignupCandidate.registered_at
        )
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        return None
    if row.status == "converted":
        _convert_signup(user_id, row.merchant_id, row.registered_at)
    return row.status


def on_email_verified(user_id: int) -> str | None:
    """For the accounts' email verification (where mail is configured): a person's act."""
    return on_person_activity(user_id, "email")


def held_signups(merchant_id: int, *, limit: int = 100) -> list[SignupCandidate]:
    """The merchant's sign-ups waiting for its review, oldest first."""
    return list(
        db.session.scalars(
            select(SignupCandidate)
            .where(SignupCandidate.merchant_id == merchant_id, SignupCandidate.status == "held")
            .order_by(SignupCandidate.registered_at, SignupCandidate.user_id)
            .limit(limit)
        )
    )


def review_signup(actor: User, user_id: int, *, approve: bool) -> SignupCandidate:
    """The merchant approves (pays the sign-up CPA) or rejects a held sign-up.

    Raises Forbidden for non-merchants, NotFound unless the sign-up is this
    merchant's, Conflict ``not_held`` when it is not waiting for review (already
    decided: a second decision changes nothing).
    """
    check_merchant(actor)
    _check_ids(user_id=user_id)
    candidate = db.session.get(SignupCandidate, user_id)
    if candidate is None or candidate.merchant_id != actor.id:
        raise NotFound("No such sign-up.")
    at = now()
    moved = db.session.execute(
        update(SignupCandidate)
        .where(SignupCandidate.user_id == user_id, SignupCandidate.status == "held")
        .values(status="converted" if approve else "rejected", decided_at=at, decided_by=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict("That sign-up is not waiting for review.", code="not_held")
    if approve:
        _convert_signup(user_id, candidate.merchant_id, candidate.registered_at)
    db.session.refresh(candidate)
    return candidate


def claim_on_login(sender, user, **extra) -> None:
    """A visitor who logs in takes their anonymous clicks with them (flask-login's
    ``user_logged_in``, connected in ``attribution.init_app``).

    The login view commits nothing after ``login_user``, so this writes in a
    short transaction of its own.
    """
    if not has_request_context():
        return
    visitor = links.visitor_id()
    if not visitor:
        return
    try:
        with db.engine.begin() as connection:
            connection.execute(_claim_statement(user.id, visitor, now()))
    except SQLAlchemyError:
        log.exception("attribution: could not claim visitor clicks for user %s", user.id)
