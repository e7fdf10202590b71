"""Attribution rules: clicks, touches, conversions, commission, author rewards, payouts.

Other features call this module, never its tables:

- ``record_click(link, ...)`` logs a visit of a tracked ``/go/`` link.
- ``record_action(kind, user_id=, merchant_id=, key=)`` records a CPA action
  (``signup``, ``event_signup``, ``team_join``, ``first_purchase``) once per key.
- ``record_order(OrderFacts)`` / ``on_order_status(OrderFacts)`` follow an order:
  the first call that sees it paid records its conversion (and the buyer's
  ``first_purchase`` with that merchant); ``completed`` starts the lock period;
  ``refunded``/``cancelled`` reverse what has not been paid out. Both are
  idempotent and safe to call for every order event, in any order, twice, or
  from two processes at once (the conversion's UNIQUE key decides).
- ``register_offer(kind, owner=, label=)`` tells attribution which merchant (user
  id) owns a widget object, so clicks and impressions know whom they are for.

Credit: a touch is a click by the customer on a widget of the same merchant in
the last ``ATTRIBUTION_WINDOW_DAYS``; the merchant's model picks the last
(default), the first, or all distinct sources (linear, equal shares). No touch:
the conversion is ``direct``. Self-referrals (the author is the customer, or the
merchant) are credited for the report but earn nothing.

Money: integer cents. Each eligible credit gets one ``earned`` commission row;
reversing adds its exact negative once, so no conversion's sum goes below zero.
Earned rows become approvable ``ATTRIBUTION_LOCK_DAYS`` after the order
completes (after the action for CPA); the ``attribution.approve_commissions``
job approves them and credits the author their ``ATTRIBUTION_AUTHOR_SHARE_BP``
share as store credit (idempotent by key). Reads treat a pending row whose lock
has passed as approved, so nothing depends on the job having run.
"""

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, g, has_request_context, request
from flask_login import user_logged_in
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import embeds
from ..accounts.models import User
from ..clock import now
from ..database import insert_ignore
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from ..extensions import db
from ..markup import EmbedRef, placeholder
from ..pagination import decode, encode
from . import links
from .models import (
    ACTION_KINDS,
    MODELS,
    Click,
    Commission,
    Conversion,
    Credit,
    MerchantSettings,
    Payout,
    SignupCandidate,
)

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "ATTRIBUTION_WINDOW_DAYS": 7,
    "ATTRIBUTION_CLICK_DEDUPE_SECONDS": 30,
    "ATTRIBUTION_LOCK_DAYS": 14,
    "ATTRIBUTION_AUTHOR_SHARE_BP": 5000,
    "ATTRIBUTION_IMPRESSIONS_ENABLED": True,
    "ATTRIBUTION_REDIS_URL": None,
    # Sign-up CPA velocity: more attributed registrations than this from one address,
    # or through one link, within the period wait for the merchant's review.
    "ATTRIBUTION_SIGNUP_VELOCITY_HOURS": 24,
    "ATTRIBUTION_SIGNUPS_PER_ADDRESS": 1,
    "ATTRIBUTION_SIGNUPS_PER_LINK": 5,
}
PERSON_ACTIVITIES = ("post", "order", "email")
ORDER_STATUSES = ("pending", "paid", "shipped", "completed", "cancelled", "refunded")
PAID_STATUSES = ("paid", "shipped", "completed")
ENDED_STATUSES = ("refunded", "cancelled")
CPA_FIELDS = ("signup", "event_signup", "team_join", "first_purchase")
MAX_RATE_BP = 10_000
MAX_CPA_CENTS = 10_000_000
MAX_ORDER_CENTS = 10**12
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
KEY_RE = re.compile(r"^[\x21-\x7e]{1,96}$")
BOT_RE = re.compile(
    r"bot|crawl|spider|slurp|scrap|facebookexternalhit|embedly|preview|monitor|lighthouse|curl/|wget/",
    re.IGNORECASE,
)


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


def window() -> timedelta:
    return timedelta(days=int(setting("ATTRIBUTION_WINDOW_DAYS")))


def lock_period() -> timedelta:
    return timedelta(days=int(setting("ATTRIBUTION_LOCK_DAYS")))


def is_bot(user_agent: str | None) -> bool:
    """Crawlers, link previews and clients without a user agent are not readers."""
    return not user_agent or bool(BOT_RE.search(user_agent))


# --- the click policy: which requests of a /go/ link are a reader's click -----------

# Our own script (``Plaza.touch``) sends this with the CSRF token when a widget acts
# in place. A page cannot make an <img>, a stylesheet or a form send a custom header,
# and another origin cannot send it without a CORS preflight we never grant.
TOUCH_HEADER = "X-Plaza-Touch"
# What a sub-resource load announces first in Accept (browsers without Sec-Fetch-*).
SUBRESOURCE_ACCEPT = ("image/", "video/", "audio/", "text/css", "font/")


def counts_as_click(method: str, headers) -> bool:
    """Whether a request of a tracked link is a reader following it (the click policy).

    - ``GET`` counts only as a top-level navigation: ``Sec-Fetch-Dest: document``
      and ``Sec-Fetch-Mode: navigate`` where the browser sends them, never
      cross-site, and (for browsers that send neither) not an ``Accept`` that asks
      for an image, media, a stylesheet or a font first. So ``![](/go/...)`` in a
      post, which every viewer's browser loads as an image, records nothing.
    - ``POST`` (a widget acting in place) counts only from our own script: the
      ``X-Plaza-Touch`` header and a CSRF token header (CSRFProtect checks the
      token before the view), and ``Sec-Fetch-Mode`` cors/same-origin and
      ``Sec-Fetch-Site: same-origin`` where sent.

    Bots are refused by ``record_click`` itself.
    """
    dest = (headers.get("Sec-Fetch-Dest") or "").strip().lower()
    mode = (headers.get("Sec-Fetch-Mode") or "").strip().lower()
    site = (headers.get("Sec-Fetch-Site") or "").strip().lower()
    if method == "GET":
        if site == "cross-site":
            return False
        if dest and dest != "document":
            return False
        if mode and mode != "navigate":
            return False
        if not dest and not mode:
            first = (headers.get("Accept") or "").split(",")[0].strip().lower()
            if first.startswith(SUBRESOURCE_ACCEPT):
                return False
        return True
    if method == "POST":
        if headers.get(TOUCH_HEADER) != "1" or not (
            headers.get("X-CSRFToken") or headers.get("X-CSRF-Token")
        ):
            return False
        if mode and mode not in ("cors", "same-origin"):
            return False
        if site and site != "same-origin":
            return False
        return dest in ("", "empty")
    return False


def _insert_once(model, values: dict, conflict: list[str]):
    """INSERT unless ``conflict`` columns already exist; the new primary key, or None. One statement."""
    statement = insert_ignore(model, values, index_elements=conflict)
    key = model.__table__.primary_key.columns.values()[0]
    return db.session.execute(statement.returning(key)).scalar()


def split(total: int, parts: int) -> list[int]:
    """``total`` in ``parts`` whole shares that add up exactly; the first ones get the remainder."""
    if parts <= 0:
        return []
    base, rest = divmod(int(total), parts)
    return [base + (1 if index < rest else 0) for index in range(parts)]


# --- offers: which merchant owns a widget -----------------------------------------


@dataclass(frozen=True)
class OfferKind:
    kind: str
    owner: Callable[[Any], int | None]  # the loaded widget object -> merchant user id
    label: Callable[[Any], str] | None = None


_OFFERS: dict[str, OfferKind] = {}


def register_offer(
    kind: str, *, owner: Callable[[Any], int | None], label: Callable[[Any], str] | None = None
):
    """Tell attribution how to find the paying merchant (user id) and a name for ``kind``.

    ``owner`` must return the merchant who created the offer or accepted it (an
    event's sponsor once it accepted), never one someone else merely named: it is
    who pays for every click, order and action the offer leads to. ``owner`` and
    ``label`` receive the object the widget kind's ``load`` returned (already
    cached for the request, so no extra query is needed).
    """
    _OFFERS[kind] = OfferKind(kind, owner, label)


def payer(kind: str, obj) -> int | None:
    """The one rule for who pays for an offer: its registered owner, if that user is a merchant.

    Every cost a merchant can be given (click attribution, CPS, every CPA on an
    offer) is resolved here, so an offer kind whose owner is not (or no longer)
    a merchant bills nobody.
    """
    offer = _OFFERS.get(kind)
    if offer is None or obj is None:
        return None
    owner = offer.owner(obj)
    if not owner:
        return None
    return int(owner) if _is_merchant(int(owner)) else None


def _is_merchant(user_id: int) -> bool:
    """Whether ``user_id`` holds the merchant role; asked once per user and app context."""
    known = g.setdefault("attribution_merchants", {})
    if user_id not in known:
        user = db.session.get(User, user_id)
        known[user_id] = user is not None and user.has_role("merchant")
    return known[user_id]


def offer_owner(ref: EmbedRef) -> int | None:
    """The merchant who pays for the offer ``ref`` (see ``payer``)."""
    if ref.kind not in _OFFERS:
        return None
    return payer(ref.kind, embeds.target(ref))


def offer_labels(refs: list[EmbedRef]) -> dict[EmbedRef, str]:
    """A readable name per offer: its own (when its kind gives one) or "product #42"."""
    embeds.preload(placeholder(ref) for ref in refs)
    labels = {}
    for ref in refs:
        offer = _OFFERS.get(ref.kind)
        obj = embeds.target(ref) if offer and offer.label else None
        labels[ref] = offer.label(obj) if obj is not None else f"{ref.kind} #{ref.id}"
    return labels


# --- merchant settings --------------------------------------------------------------


def settings_of(merchant_id: int) -> MerchantSettings:
    """The merchant's settings; an unsaved all-zero, last-touch default when never set."""
    found = db.session.get(MerchantSettings, merchant_id)
    if found is not None:
        return found
    return MerchantSettings(
        merchant_id=merchant_id,
        cps_rate_bp=0,
        cpa_signup_cents=0,
        cpa_event_signup_cents=0,
        cpa_team_join_cents=0,
        cpa_first_purchase_cents=0,
        model="last",
        currency="USD",
    )


def check_merchant(actor) -> None:
    if (
        actor is None
        or not getattr(actor, "is_authenticated", False)
        or not actor.has_role("merchant")
    ):
        raise Forbidden("Only merchants have attribution settings.")


def update_settings(
    actor: User, *, cps_rate_bp=None, cpa_cents: dict | None = None, model=None, currency=None
) -> MerchantSettings:
    """Change the caller's CPS rate, CPA amounts, model or currency; None leaves a field alone.

    Raises Forbidden for non-merchants and ValidationFailed (nothing written) for bad values.
    """
    check_merchant(actor)
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if cps_rate_bp is not None:
        if (
            not isinstance(cps_rate_bp, int)
            or isinstance(cps_rate_bp, bool)
            or not 0 <= cps_rate_bp <= MAX_RATE_BP
        ):
            errors["cps_rate_bp"] = [f"Use basis points from 0 to {MAX_RATE_BP} (100% = 10000)."]
        else:
            changes["cps_rate_bp"] = cps_rate_bp
    for name, value in (cpa_cents or {}).items():
        if name not in CPA_FIELDS:
            errors[f"cpa_cents.{name}"] = [f"Use one of {', '.join(CPA_FIELDS)}."]
        elif value is None:
            continue
        elif (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_CPA_CENTS
        ):
            errors[f"cpa_cents.{name}"] = [f"Use whole cents from 0 to {MAX_CPA_CENTS:,}."]
        else:
            changes[f"cpa_{name}_cents"] = value
    if model is not None:
        if model not in MODELS:
            errors["model"] = [f"Use one of {', '.join(MODELS)}."]
        else:
            changes["model"] = model
    if currency is not None:
        if not isinstance(currency, str) or not CURRENCY_RE.match(currency):
            errors["currency"] = ["Use a three-letter currency code such as USD."]
        else:
            changes["currency"] = currency
    if errors:
        raise ValidationFailed("Some settings are not valid.", fields=errors)
    _insert_once(MerchantSettings, {"merchant_id": actor.id, "updated_at": now()}, ["merchant_id"])
    if changes:
        db.session.execute(
            update(MerchantSettings)
            .where(MerchantSettings.merchant_id == actor.id)
            .values(**changes, updated_at=now())
            .execution_options(synchronize_session=False)
        )
    settings = db.session.get(MerchantSettings, actor.id)
    db.session.refresh(settings)
    return settings


# --- clicks -------------------------------------------------------------------------


def record_click(
    link: links.TrackedLink,
    *,
    user_id: int | None,
    visitor_id: str | None,
    ip: str | None,
    user_agent: str | None,
) -> Click | None:
    """Log a visit of ``link``; None when it was a bot or a repeat within the dedupe window.

    A repeat is the same viewer (account, else visitor cookie) on the same link
    within ``ATTRIBUTION_CLICK_DEDUPE_SECONDS``; concurrent repeats collapse on the
    row's unique dedupe key.
    """
    if is_bot(user_agent) or (user_id is None and visitor_id is None):
        return None
    at = now()
    seconds = max(1, int(setting("ATTRIBUTION_CLICK_DEDUPE_SECONDS")))
    same_link = and_(
        Click.source_kind == link.source_kind,
        Click.source_id == link.source_id,
        Click.embed_kind == link.embed_kind,
        Click.embed_id == link.embed_id,
    )
    viewer = Click.user_id == user_id if user_id is not None else Click.visitor_id == visitor_id
    recent = db.session.scalar(
        select(Click.id)
        .where(same_link, viewer, Click.created_at > at - timedelta(seconds=seconds))
        .limit(1)
    )
    if recent is not None:
        return None
    who = f"u{user_id}" if user_id is not None else f"v{visitor_id}"
    bucket = int(at.timestamp()) // seconds
    what = f"{link.source_kind}:{link.source_id}:{link.embed_kind}:{link.embed_id}"
    dedupe_key = hashlib.sha256(f"{who}|{what}|{bucket}".encode()).hexdigest()[:40]
    click_id = _insert_once(
        Click,
        {
            "source_kind": link.source_kind,
            "source_id": link.source_id,
            "author_id": _existing_user(link.author_id),
            "room": link.room,
            "embed_kind": link.embed_kind,
            "embed_id": link.embed_id,
            "merchant_id": offer_owner(link.ref),
            "user_id": user_id,
            "visitor_id": visitor_id,
            "ip_hash": links.fingerprint(ip),
            "ua_hash": links.fingerprint(user_agent),
            "is_self": user_id is not None and user_id == link.author_id,
            "dedupe_key": dedupe_key,
            "created_at": at,
        },
        ["dedupe_key"],
    )
    return db.session.get(Click, click_id) if click_id is not None else None


def _existing_user(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return db.session.scalar(select(User.id).where(User.id == user_id))


def _claim_statement(user_id: int, visitor_id: str, at: datetime):
    return (
        update(Click)
        .where(
            Click.visitor_id == visitor_id,
            Click.user_id.is_(None),
            Click.created_at >= at - window(),
        )
        .values(user_id=user_id, is_self=case((Click.author_id == user_id, True), else_=False))
        .execution_options(synchronize_session=False)
    )


def claim_visitor(user_id: int, visitor_id: str) -> int:
    """Hand the anonymous clicks of ``visitor_id`` (within the window) to ``user_id``."""
    return db.session.execute(_claim_statement(user_id, visitor_id, now())).rowcount


def on_registered(user: User) -> None:
    """accounts.service.register calls this in its transaction.

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


@user_logged_in.connect
def _claim_on_login(sender, user, **extra) -> None:
    """A visitor who logs in takes their anonymous clicks with them.

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


# --- touches and credit ---------------------------------------------------------------


def touches_for(customer_id: int, merchant_id: int, at: datetime) -> list[Click]:
    """The customer's clicks on the merchant's widgets in the window before ``at``, oldest first."""
    return list(
        db.session.scalars(
            select(Click)
            .where(
                Click.user_id == customer_id,
                Click.merchant_id == merchant_id,
                Click.created_at >= at - window(),
                Click.created_at <= at,
            )
            .order_by(Click.created_at, Click.id)
        )
    )


def latest_touch(customer_id: int, at: datetime) -> Click | None:
    """The customer's latest click on any merchant's widget in the window (for sign-ups)."""
    return db.session.scalar(
        select(Click)
        .where(
            Click.user_id == customer_id,
            Click.merchant_id.is_not(None),
            Click.created_at >= at - window(),
            Click.created_at <= at,
        )
        .order_by(Click.created_at.desc(), Click.id.desc())
        .limit(1)
    )


def choose(touches: list[Click], model: str) -> list[Click]:
    """Which touches get credit: the last, the first, or one per distinct source (linear)."""
    if not touches:
        return []
    if model == "first":
        return [touches[0]]
    if model == "linear":
        seen: dict[tuple[str, int], Click] = {}
        for click in touches:
            seen.setdefault((click.source_kind, click.source_id), click)
        return list(seen.values())
    return [touches[-1]]


def _create_conversion(
    *,
    kind: str,
    key: str,
    merchant_id: int,
    customer_id: int,
    occurred_at: datetime,
    revenue_cents: int,
    currency: str,
    commission_cents: int,
    rate_bp: int,
    approvable_at: datetime | None,
    order_id: int | None = None,
    order_status: str | None = None,
    completed_at: datetime | None = None,
    settings: MerchantSettings | None = None,
    touches: list[Click] | None = None,
) -> int | None:
    """Insert the conversion with its credits and commission rows; None if ``key`` exists.

    The conversion row is inserted first with ON CONFLICT DO NOTHING, so of two
    concurrent deliveries exactly one goes on to write credits and commission.
    ``settings`` and ``touches`` may be given when the caller already has them.
    """
    settings = settings or settings_of(merchant_id)
    if touches is None:
        touches = touches_for(customer_id, merchant_id, occurred_at)
    chosen = choose(touches, settings.model)
    conversion_id = _insert_once(
        Conversion,
        {
            "key": key,
            "kind": kind,
            "merchant_id": merchant_id,
            "customer_id": customer_id,
            "order_id": order_id,
            "revenue_cents": revenue_cents,
            "currency": currency,
            "model": settings.model,
            "direct": not chosen,
            "rate_bp": rate_bp,
            "commission_cents": commission_cents,
            "order_status": order_status,
            "occurred_at": occurred_at,
            "completed_at": completed_at,
            "created_at": now(),
        },
        ["key"],
    )
    if conversion_id is None:
        return None
    weights = split(10_000, len(chosen))
    revenues = split(revenue_cents, len(chosen))
    shares = split(commission_cents, len(chosen))
    for click, weight, revenue, share in zip(chosen, weights, revenues, shares, strict=True):
        self_referral = (
            click.is_self
            or click.author_id is None
            or click.author_id in (customer_id, merchant_id)
        )
        credit = Credit(
            conversion_id=conversion_id,
            click_id=click.id,
            source_kind=click.source_kind,
            source_id=click.source_id,
            author_id=click.author_id,
            room=click.room,
            embed_kind=click.embed_kind,
            embed_id=click.embed_id,
            weight_bp=weight,
            revenue_cents=revenue,
            self_referral=self_referral,
        )
        db.session.add(credit)
        db.session.flush()
        if not self_referral and share > 0:
            db.session.add(
                Commission(
                    entry_key=f"earn:{credit.id}",
                    kind="earned",
                    conversion_id=conversion_id,
                    credit_id=credit.id,
                    merchant_id=merchant_id,
                    author_id=click.author_id,
                    amount_cents=share,
                    currency=currency,
                    status="pending",
                    approvable_at=approvable_at,
                    reward_cents=0,
                    created_at=now(),
                )
            )
    db.session.flush()
    return conversion_id


def _check_ids(**ids) -> None:
    errors = {
        name: ["Use a positive whole number."]
        for name, value in ids.items()
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0
    }
    if errors:
        raise ValidationFailed(fields=errors)


def _check_time(name: str, value) -> None:
    if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
        raise field_error(name, "Use an aware datetime.")


def _check_users(*user_ids: int) -> None:
    found = set(db.session.scalars(select(User.id).where(User.id.in_(user_ids))))
    if not set(user_ids) <= found:
        raise NotFound("No such user.")


def record_action(
    kind: str, *, user_id: int, merchant_id: int, key: str, occurred_at: datetime | None = None
) -> Conversion:
    """Record a CPA action of ``user_id`` paid by ``merchant_id``, once per (kind, key).

    ``key`` names the action in the caller's terms (``"signup:17"`` for an event
    sign-up row, ``"team:4:user:9"``...). Returns the conversion, the existing one
    when the key was recorded before (nothing new is written then). Raises
    ValidationFailed for a bad kind/key/id, NotFound for unknown users.
    """
    if kind not in ACTION_KINDS:
        raise field_error("kind", f"Use one of {', '.join(ACTION_KINDS)}.")
    _check_ids(user_id=user_id, merchant_id=merchant_id)
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise field_error("key", "Use 1-96 visible ASCII characters.")
    _check_time("occurred_at", occurred_at)
    _check_users(user_id, merchant_id)
    at = occurred_at or now()
    full_key = f"{kind}:{key}"
    settings = settings_of(merchant_id)
    _create_conversion(
        kind=kind,
        key=full_key,
        merchant_id=merchant_id,
        customer_id=user_id,
        occurred_at=at,
        revenue_cents=0,
        currency=settings.currency,
        commission_cents=settings.cpa_cents(kind),
        rate_bp=0,
        approvable_at=at + lock_period(),
    )
    return db.session.scalar(select(Conversion).where(Conversion.key == full_key))


def reverse_action(kind: str, key: str, *, at: datetime | None = None) -> int:
    """Take back an action's unpaid commission (a failed team, a cancelled sign-up).

    Returns how many commission rows were reversed (0 when unknown or already done).
    """
    conversion_id = db.session.scalar(
        select(Conversion.id).where(Conversion.key == f"{kind}:{key}")
    )
    if conversion_id is None:
        return 0
    return _reverse([conversion_id], at or now())


# --- orders ------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFacts:
    """What attribution needs to know about an order, as it stands now.

    ``merchant_id`` is the merchant's USER id (the shop maps its merchant row).
    """

    order_id: int
    buyer_id: int
    merchant_id: int
    total_cents: int
    currency: str
    status: str
    paid_at: datetime | None = None
    completed_at: datetime | None = None
    refunded_at: datetime | None = None


def _check_facts(facts: OrderFacts) -> None:
    if not isinstance(facts, OrderFacts):
        raise ValidationFailed("Give OrderFacts.")
    _check_ids(order_id=facts.order_id, buyer_id=facts.buyer_id, merchant_id=facts.merchant_id)
    errors = {}
    if (
        not isinstance(facts.total_cents, int)
        or isinstance(facts.total_cents, bool)
        or not (0 <= facts.total_cents <= MAX_ORDER_CENTS)
    ):
        errors["total_cents"] = ["Use whole cents, zero or more."]
    if not isinstance(facts.currency, str) or not CURRENCY_RE.match(facts.currency):
        errors["currency"] = ["Use a three-letter currency code."]
    if facts.status not in ORDER_STATUSES:
        errors["status"] = [f"Use one of {', '.join(ORDER_STATUSES)}."]
    if errors:
        raise ValidationFailed(fields=errors)
    for name in ("paid_at", "completed_at", "refunded_at"):
        _check_time(name, getattr(facts, name))


def order_conversion(order_id: int) -> Conversion | None:
    return db.session.scalar(select(Conversion).where(Conversion.key == f"order:{order_id}"))


def record_order(facts: OrderFacts) -> Conversion | None:
    """Bring attribution up to date with an order; returns its conversion (None while unpaid).

    The first call that sees the order paid (``paid_at`` set, status past
    pending) records the conversion, credited at ``paid_at``, and the buyer's
    first purchase with this merchant. Every call then applies the status:
    completed starts the lock period, refunded/cancelled reverse unpaid commission.
    """
    _check_facts(facts)
    conversion = order_conversion(facts.order_id)
    if conversion is None and facts.paid_at is not None and facts.status != "pending":
        _check_users(facts.buyer_id, facts.merchant_id)
        settings = settings_of(facts.merchant_id)
        touches = touches_for(facts.buyer_id, facts.merchant_id, facts.paid_at)
        completed_at = facts.completed_at if facts.status == "completed" else None
        approvable_at = completed_at + lock_period() if completed_at else None
        created = _create_conversion(
            kind="order",
            key=f"order:{facts.order_id}",
            merchant_id=facts.merchant_id,
            customer_id=facts.buyer_id,
            occurred_at=facts.paid_at,
            revenue_cents=facts.total_cents,
            currency=facts.currency,
            commission_cents=facts.total_cents * settings.cps_rate_bp // 10_000,
            rate_bp=settings.cps_rate_bp,
            approvable_at=approvable_at,
            order_id=facts.order_id,
            order_status=facts.status,
            completed_at=completed_at,
            settings=settings,
            touches=touches,
        )
        conversion = order_conversion(facts.order_id)
        if created is not None:
            _record_first_purchase(facts, created, approvable_at, settings, touches)
            if facts.status not in ENDED_STATUSES:
                return conversion  # written with this status and lock: nothing to apply
    if conversion is not None:
        _apply_status(conversion, facts)
    return conversion


on_order_status = record_order


def _record_first_purchase(
    facts: OrderFacts,
    conversion_id: int,
    approvable_at: datetime | None,
    settings: MerchantSettings,
    touches: list[Click],
) -> None:
    earlier = db.session.scalar(
        select(Conversion.id)
        .where(
            Conversion.kind == "order",
            Conversion.merchant_id == facts.merchant_id,
            Conversion.customer_id == facts.buyer_id,
            Conversion.id != conversion_id,
        )
        .limit(1)
    )
    if earlier is not None:
        return
    _create_conversion(
        kind="first_purchase",
        key=f"first_purchase:{facts.merchant_id}:{facts.buyer_id}",
        merchant_id=facts.merchant_id,
        customer_id=facts.buyer_id,
        occurred_at=facts.paid_at,
        revenue_cents=0,
        currency=settings.currency,
        commission_cents=settings.cpa_cents("first_purchase"),
        rate_bp=0,
        approvable_at=approvable_at,
        order_id=facts.order_id,
        order_status=facts.status,
        completed_at=facts.completed_at if facts.status == "completed" else None,
        settings=settings,
        touches=touches,
    )


def _apply_status(conversion: Conversion, facts: OrderFacts) -> None:
    ids = list(
        db.session.scalars(select(Conversion.id).where(Conversion.order_id == facts.order_id))
    )
    if facts.status in ENDED_STATUSES:
        _reverse(ids, facts.refunded_at or now())
    elif facts.status == "completed":
        completed_at = facts.completed_at or now()
        db.session.execute(
            update(Commission)
            .where(
                Commission.conversion_id.in_(ids),
                Commission.kind == "earned",
                Commission.approvable_at.is_(None),
            )
            .values(approvable_at=completed_at + lock_period())
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Conversion)
            .where(Conversion.id.in_(ids), Conversion.completed_at.is_(None))
            .values(completed_at=completed_at)
            .execution_options(synchronize_session=False)
        )
    # An ended order stays ended even if an older event arrives late.
    db.session.execute(
        update(Conversion)
        .where(
            Conversion.id.in_(ids),
            or_(Conversion.order_status.is_(None), Conversion.order_status.not_in(ENDED_STATUSES)),
        )
        .values(order_status=facts.status)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(conversion)


# --- the commission lifecycle -------------------------------------------------------


def _reverse(conversion_ids: list[int], at: datetime) -> int:
    """Reverse every unpaid earned row of these conversions with its exact negative, once.

    The status UPDATE is conditional, so of two concurrent refunds only one gets
    the rows; the reversal's unique ``reverse:<id>`` key is the second guard.
    Store credit already given for an approved row is taken back as far as the
    author's balance allows (the rest is written off, never a negative balance).
    """
    if not conversion_ids:
        return 0
    rows = db.session.execute(
        update(Commission)
        .where(
            Commission.conversion_id.in_(conversion_ids),
            Commission.kind == "earned",
            Commission.status.in_(("pending", "approved")),
        )
        .values(status="reversed", reversed_at=at)
        .returning(
            Commission.id,
            Commission.conversion_id,
            Commission.credit_id,
            Commission.merchant_id,
            Commission.author_id,
            Commission.amount_cents,
            Commission.currency,
            Commission.reward_cents,
        )
        .execution_options(synchronize_session=False)
    ).all()
    for row in rows:
        _insert_once(
            Commission,
            {
                "entry_key": f"reverse:{row.id}",
                "kind": "reversal",
                "conversion_id": row.conversion_id,
                "credit_id": row.credit_id,
                "merchant_id": row.merchant_id,
                "author_id": row.author_id,
                "amount_cents": -row.amount_cents,
                "currency": row.currency,
                "status": "reversed",
                "reversed_at": at,
                "reverses_id": row.id,
                "reward_cents": 0,
                "created_at": at,
            },
            ["entry_key"],
        )
        if row.reward_cents > 0 and row.author_id is not None:
            _take_back_reward(row.author_id, row.id, row.reward_cents)
    db.session.execute(
        update(Conversion)
        .where(Conversion.id.in_(conversion_ids), Conversion.reversed_at.is_(None))
        .values(reversed_at=at)
        .execution_options(synchronize_session=False)
    )
    return len(rows)


def _take_back_reward(author_id: int, commission_id: int, reward_cents: int) -> None:
    from ..members import service as members

    amount = min(reward_cents, members.balance(author_id, "credit"))
    if amount > 0:
        members.post(
            author_id,
            "credit",
            -amount,
            "post_earnings_reversed",
            key=f"attr-reward-reversal:{commission_id}",
            commission_id=commission_id,
        )


def approve_due(limit: int = 1000) -> int:
    """Approve earned rows whose lock period has passed and credit the authors' share.

    Each row moves with a conditional UPDATE (``status = 'pending'``), and the
    store credit carries the key ``attr-reward:<id>``, so running this twice, or
    in two processes, approves and rewards each row once.
    """
    at = now()
    share_bp = int(setting("ATTRIBUTION_AUTHOR_SHARE_BP"))
    due = db.session.execute(
        select(Commission.id, Commission.amount_cents, Commission.author_id)
        .where(
            Commission.kind == "earned",
            Commission.status == "pending",
            Commission.approvable_at <= at,
        )
        .order_by(Commission.id)
        .limit(limit)
    ).all()
    from ..members import service as members

    approved = 0
    for row in due:
        reward = row.amount_cents * share_bp // 10_000 if row.author_id is not None else 0
        moved = db.session.execute(
            update(Commission)
            .where(Commission.id == row.id, Commission.status == "pending")
            .values(status="approved", approved_at=at, reward_cents=reward)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            continue
        approved += 1
        if reward > 0:
            members.post(
                row.author_id,
                "credit",
                reward,
                "post_earnings",
                key=f"attr-reward:{row.id}",
                commission_id=row.id,
            )
    return approved


def effective_status(commission: Commission, at: datetime | None = None) -> str:
    """The status a reader should see: a pending row past its lock counts as approved."""
    if (
        commission.status == "pending"
        and commission.approvable_at is not None
        and commission.approvable_at <= (at or now())
    ):
        return "approved"
    return commission.status


def pay_out(actor: User, merchant_id: int) -> list[Payout]:
    """Mark the merchant's approved commission paid (one payout per currency).

    Raises Forbidden unless admin, NotFound for an unknown merchant, Conflict
    ``nothing_to_pay`` when nothing is approved.

    Payouts of one merchant run one at a time: the first statement locks the
    merchant's settings row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has
    one writer), so a concurrent request waits, then finds nothing approved and
    gets ``nothing_to_pay``. A payout row is only kept when it pays something.
    """
    if actor is None or not getattr(actor, "is_admin", False):
        raise Forbidden("Only admins pay out commission.")
    _check_ids(merchant_id=merchant_id)
    if db.session.get(User, merchant_id) is None:
        raise NotFound("No such merchant.")
    _lock_merchant(merchant_id)
    approve_due()
    currencies = list(
        db.session.scalars(
            select(Commission.currency)
            .where(
                Commission.merchant_id == merchant_id,
                Commission.kind == "earned",
                Commission.status == "approved",
            )
            .distinct()
        )
    )
    if not currencies:
        raise Conflict("There is no approved commission to pay.", code="nothing_to_pay")
    at = now()
    payouts = []
    for currency in sorted(currencies):
        savepoint = db.session.begin_nested()
        payout = Payout(
            merchant_id=merchant_id,
            admin_id=actor.id,
            currency=currency,
            total_cents=0,
            entries=0,
            created_at=at,
        )
        db.session.add(payout)
        db.session.flush()
        amounts = db.session.scalars(
            update(Commission)
            .where(
                Commission.merchant_id == merchant_id,
                Commission.kind == "earned",
                Commission.status == "approved",
                Commission.currency == currency,
            )
            .values(status="paid", paid_at=at, payout_id=payout.id)
            .returning(Commission.amount_cents)
            .execution_options(synchronize_session=False)
        ).all()
        if not amounts:  # nothing left in this currency: no empty payout row
            savepoint.rollback()
            continue
        payout.total_cents = sum(amounts)
        payout.entries = len(amounts)
        savepoint.commit()
        payouts.append(payout)
    if not payouts:
        raise Conflict("There is no approved commission to pay.", code="nothing_to_pay")
    db.session.flush()
    return payouts


def _lock_merchant(merchant_id: int) -> None:
    """Hold the merchant's settings row for the rest of the transaction (made if missing)."""
    _insert_once(
        MerchantSettings, {"merchant_id": merchant_id, "updated_at": now()}, ["merchant_id"]
    )
    db.session.execute(
        select(MerchantSettings.merchant_id)
        .where(MerchantSettings.merchant_id == merchant_id)
        .with_for_update()
    )


def balances(merchant_id: int | None = None) -> list[dict]:
    """Commission owed per merchant and status (pending/approved/paid) and its net sum."""
    at = now()
    status = case(
        (and_(Commission.status == "pending", Commission.approvable_at <= at), "approved"),
        else_=Commission.status,
    )
    query = select(
        Commission.merchant_id,
        Commission.currency,
        status.label("status"),
        func.sum(Commission.amount_cents),
    ).group_by(Commission.merchant_id, Commission.currency, status)
    if merchant_id is not None:
        query = query.where(Commission.merchant_id == merchant_id)
    found: dict[tuple[int, str], dict] = {}
    for merchant, currency, state, amount in db.session.execute(query):
        entry = found.setdefault(
            (merchant, currency),
            {
                "merchant_id": merchant,
                "currency": currency,
                "pending_cents": 0,
                "approved_cents": 0,
                "paid_cents": 0,
                "net_cents": 0,
            },
        )
        if state in ("pending", "approved", "paid"):
            entry[f"{state}_cents"] += int(amount or 0)
        entry["net_cents"] += int(amount or 0)
    names = dict(
        db.session.execute(
            select(User.id, User.username).where(User.id.in_([k[0] for k in found]))
        ).all()
    )
    rows = sorted(found.values(), key=lambda e: (-e["approved_cents"], e["merchant_id"]))
    for row in rows:
        row["merchant"] = names.get(row["merchant_id"], "?")
    return rows


def ledger_sum(merchant_id: int) -> int:
    """The merchant's net commission: the plain sum of its ledger rows."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(Commission.amount_cents), 0)).where(
                Commission.merchant_id == merchant_id
            )
        )
        or 0
    )


def recent_payouts(limit: int = 20) -> list[Payout]:
    return list(db.session.scalars(select(Payout).order_by(Payout.id.desc()).limit(limit)))


# --- an author's earnings ----------------------------------------------------------------


@dataclass
class Earning:
    credit: Credit
    conversion: Conversion
    earned: Commission | None
    status: str

    @property
    def amount_cents(self) -> int:
        if self.earned is None or self.status == "reversed":
            return 0
        return self.earned.amount_cents


@dataclass
class EarningsPage:
    items: list[Earning]
    next_cursor: str | None


def earnings(user_id: int, *, cursor: str | None = None, limit: int = 20) -> EarningsPage:
    """The conversions credited to ``user_id``'s posts and messages, newest first."""
    query = select(Credit).where(Credit.author_id == user_id)
    after = decode(cursor, 1)
    if after is not None:
        if not isinstance(after[0], int):
            raise field_error("cursor", "That cursor is not valid.")
        query = query.where(Credit.id < after[0])
    credits = list(db.session.scalars(query.order_by(Credit.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(credits) > limit:
        credits = credits[:limit]
        next_cursor = encode([credits[-1].id])
    conversions = {
        c.id: c
        for c in db.session.scalars(
            select(Conversion).where(
                Conversion.id.in_({credit.conversion_id for credit in credits})
            )
        )
    }
    earned = {
        c.credit_id: c
        for c in db.session.scalars(
            select(Commission).where(
                Commission.credit_id.in_([c.id for c in credits]), Commission.kind == "earned"
            )
        )
    }
    at = now()
    items = []
    for credit in credits:
        row = earned.get(credit.id)
        if row is not None:
            status = effective_status(row, at)
        else:
            status = "not_eligible" if credit.self_referral else "no_commission"
        items.append(Earning(credit, conversions[credit.conversion_id], row, status))
    return EarningsPage(items, next_cursor)


def earnings_summary(user_id: int) -> dict:
    """Totals of ``user_id``'s commission by status and the store credit it brought them."""
    at = now()
    status = case(
        (and_(Commission.status == "pending", Commission.approvable_at <= at), "approved"),
        else_=Commission.status,
    )
    totals = {
        "pending_cents": 0,
        "approved_cents": 0,
        "paid_cents": 0,
        "reversed_cents": 0,
        "reward_cents": 0,
    }
    rows = db.session.execute(
        select(status, func.sum(Commission.amount_cents), func.sum(Commission.reward_cents))
        .where(Commission.author_id == user_id, Commission.kind == "earned")
        .group_by(status)
    )
    for state, amount, reward in rows:
        totals[f"{state}_cents"] = int(amount or 0)
        totals["reward_cents"] += int(reward or 0)
    totals["conversions"] = (
        db.session.scalar(
            select(func.count(func.distinct(Credit.conversion_id))).where(
                Credit.author_id == user_id
            )
        )
        or 0
    )
    totals["orders"] = (
        db.session.scalar(
            select(func.count(func.distinct(Credit.conversion_id)))
            .join(Conversion, Conversion.id == Credit.conversion_id)
            .where(Credit.author_id == user_id, Conversion.kind == "order")
        )
        or 0
    )
    totals["earned_cents"] = (
        totals["pending_cents"] + totals["approved_cents"] + totals["paid_cents"]
    )
    return totals


# --- wiring into the embeds registry ----------------------------------------------------

embeds.set_link_builder(links.build_href)


def viewer_key() -> str:
    """Who is looking, for impression dedupe: account, else visitor cookie, else IP + agent."""
    from flask_login import current_user

    if current_user and getattr(current_user, "is_authenticated", False):
        return f"u{current_user.id}"
    visitor = links.visitor_id()
    if visitor:
        return f"v{visitor}"
    return "a" + links.fingerprint(f"{request.remote_addr}|{request.headers.get('User-Agent', '')}")
