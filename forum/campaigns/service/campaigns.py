"""Campaigns: creating, the state machine (test send, schedule, send now, pause, resume,
cancel) and rendering a message for one member (merge fields, tracked links, the
unsubscribe headers)."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, url_for
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select

from ... import markup, realtime
from ...accounts.models import User
from ...attribution import service as attribution
from ...clock import now
from ...database import update_where
from ...errors import Conflict, Forbidden, NotFound, ValidationFailed
from ...extensions import db
from ...members import service as members
from ...money import format_minor
from ..models import CHANNELS, Campaign, ContactSettings, Delivery, Segment
from ..sms import segment_count
from .segments import check_rule

MERGE_FIELDS = ("name", "tier", "credit", "coupon")
MERGE_RE = re.compile(r"\{\{\s*([a-z]+)\s*\}\}")
EMBED_RE = re.compile(r"\[\[([a-z]+):([0-9]{1,10})\]\]")
LINK_SALT = "plaza.campaigns.link.v1"
OPEN_SALT = "plaza.campaigns.open.v1"
MAX_BODY = 20_000
SMS_MAX = 1_000


def check_admin(actor: User) -> None:
    if actor is None or not actor.is_admin:
        raise Forbidden("Only admins run campaigns.")


def _checked_name(name, what: str) -> tuple[str, list[str]]:
    """A segment's or campaign's name, stripped, and what is wrong with it (nothing: [])."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= 120:
        return name, [f"Give the {what} a name of 1-120 characters."]
    return name, []


# --- segments ---------------------------------------------------------------------


def create_segment(actor: User, name: str, rule) -> Segment:
    check_admin(actor)
    name, wrong = _checked_name(name, "segment")
    if wrong:
        raise ValidationFailed(fields={"name": wrong})
    segment = Segment(name=name, rule=check_rule(rule), created_by_id=actor.id)
    db.session.add(segment)
    db.session.flush()
    return segment


def update_segment(actor: User, segment: Segment, name: str, rule) -> Segment:
    check_admin(actor)
    name, wrong = _checked_name(name, "segment")
    if wrong:
        raise ValidationFailed(fields={"name": wrong})
    segment.name, segment.rule, segment.updated_at = name, check_rule(rule), now()
    return segment


def _admin_get(actor: User, model, row_id: int, what: str):
    check_admin(actor)
    row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(f"No such {what}.")
    return row


def _admin_list(actor: User, model) -> list:
    """The 200 newest, for the admin pages and the API."""
    check_admin(actor)
    return list(db.session.scalars(select(model).order_by(model.id.desc()).limit(200)))


def get_segment(actor: User, segment_id: int) -> Segment:
    return _admin_get(actor, Segment, segment_id, "segment")


def list_segments(actor: User) -> list[Segment]:
    return _admin_list(actor, Segment)


# --- campaigns --------------------------------------------------------------------


def _check_fields(channel, subject, body, holdout_bp, coupon_code) -> dict:
    errors: dict[str, list[str]] = {}
    if channel not in CHANNELS:
        errors["channel"] = ["Use email or sms."]
    if not isinstance(body, str) or not body.strip():
        errors["body"] = ["Write the message."]
    elif channel == "sms" and len(body) > SMS_MAX:
        errors["body"] = [f"Keep an SMS under {SMS_MAX} characters."]
    elif len(body) > MAX_BODY:
        errors["body"] = [f"Keep it under {MAX_BODY} characters."]
    if channel == "email" and not (isinstance(subject, str) and 1 <= len(subject.strip()) <= 200):
        errors["subject"] = ["An email needs a subject of 1-200 characters."]
    if (
        not isinstance(holdout_bp, int)
        or isinstance(holdout_bp, bool)
        or not 0 <= holdout_bp <= 5000
    ):
        errors["holdout_bp"] = ["Use 0-5000 basis points (up to half the segment)."]
    if not isinstance(coupon_code, str) or len(coupon_code) > 64:
        errors["coupon_code"] = ["Use a code of up to 64 characters."]
    elif coupon_code.strip() and members.existing_code(coupon_code) is None:
        # The code rides in every letter: it must be a real coupon (made in Coupons).
        errors["coupon_code"] = [f"No coupon has the code {coupon_code.strip()[:32]}."]
    if isinstance(body, str):
        unknown = sorted({m for m in MERGE_RE.findall(body) if m not in MERGE_FIELDS})
        if unknown:
            errors.setdefault("body", []).append(
                f"Unknown merge field(s) {', '.join(unknown)}; use {', '.join(MERGE_FIELDS)}."
            )
    return errors


def create_campaign(
    actor: User,
    *,
    name: str,
    channel: str,
    segment_id: int,
    body: str,
    subject: str = "",
    holdout_bp: int = 0,
    coupon_code: str = "",
) -> Campaign:
    check_admin(actor)
    errors = _check_fields(channel, subject, body, holdout_bp, coupon_code)
    name, wrong = _checked_name(name, "campaign")
    if wrong:
        errors["name"] = wrong
    if not isinstance(segment_id, int) or db.session.get(Segment, segment_id) is None:
        errors["segment_id"] = ["Choose an existing segment."]
    if errors:
        raise ValidationFailed(fields=errors)
    campaign = Campaign(
        name=name,
        channel=channel,
        segment_id=segment_id,
        subject=(subject or "").strip(),
        body=body,
        holdout_bp=holdout_bp,
        coupon_code=members.existing_code(coupon_code) or "",
        status="draft",
        created_by_id=actor.id,
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


def get_campaign(actor: User, campaign_id: int) -> Campaign:
    return _admin_get(actor, Campaign, campaign_id, "campaign")


def list_campaigns(actor: User) -> list[Campaign]:
    return _admin_list(actor, Campaign)


def _move(campaign: Campaign, from_statuses: tuple[str, ...], to: str, **values) -> None:
    moved = update_where(
        Campaign,
        Campaign.id == campaign.id,
        Campaign.status.in_(from_statuses),
        status=to,
        **values,
    )
    if moved != 1:
        db.session.refresh(campaign)
        raise Conflict(f"A {campaign.status} campaign cannot do that.", code="invalid_state")
    db.session.refresh(campaign)


def send_now(actor: User, campaign: Campaign) -> Campaign:
    """Start delivery: the workers plan the segment and send in batches (after commit)."""
    check_admin(actor)
    _move(campaign, ("draft", "scheduled"), "sending", started_at=now())
    _queue_plan(campaign.id)
    return campaign


def schedule(actor: User, campaign: Campaign, at: datetime) -> Campaign:
    check_admin(actor)
    if not isinstance(at, datetime) or at.tzinfo is None or at <= now():
        raise ValidationFailed(fields={"scheduled_at": ["Choose a time in the future."]})
    _move(campaign, ("draft", "scheduled"), "scheduled", scheduled_at=at)
    return campaign


def pause(actor: User, campaign: Campaign) -> Campaign:
    check_admin(actor)
    _move(campaign, ("sending",), "paused")
    return campaign


def resume(actor: User, campaign: Campaign) -> Campaign:
    check_admin(actor)
    _move(campaign, ("paused",), "sending")
    _queue_plan(campaign.id)  # planning continues where it stopped, then queues batches
    return campaign


def cancel(actor: User, campaign: Campaign) -> Campaign:
    """Stop for good: unsent deliveries are skipped ("cancelled"); sent ones stay sent."""
    check_admin(actor)
    _move(campaign, ("draft", "scheduled", "sending", "paused"), "cancelled", finished_at=now())
    update_where(
        Delivery,
        Delivery.campaign_id == campaign.id,
        Delivery.status == "pending",
        status="skipped",
        reason="cancelled",
    )
    return campaign


def _queue_plan(campaign_id: int) -> None:
    from ..tasks import plan_campaign

    realtime.after_commit(plan_campaign.delay, campaign_id)


# --- rendering --------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str | None
    headers: dict


def _signer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def link_token(delivery_id: int, target: str) -> str:
    return _signer(LINK_SALT).dumps([delivery_id, target])


def read_link(token: str) -> tuple[int, str] | None:
    if not isinstance(token, str) or not 0 < len(token) <= 4000:
        return None
    try:
        delivery_id, target = _signer(LINK_SALT).loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        return None
    if not isinstance(delivery_id, int) or not isinstance(target, str):
        return None
    return delivery_id, target


def open_token(delivery_id: int) -> str:
    return _signer(OPEN_SALT).dumps(delivery_id)


def read_open(token: str) -> int | None:
    try:
        value = _signer(OPEN_SALT).loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _offer_link(campaign: Campaign, kind: str, ident: int) -> tuple[str, str] | None:
    """(label, tracked absolute href) for ``[[kind:id]]`` in a campaign, or None."""
    from ... import embeds

    ref = markup.EmbedRef(kind, ident)
    obj = embeds.target(ref)
    if obj is None:
        return None
    plain = embeds.href(ref, None)
    label = getattr(obj, "name", None) or getattr(getattr(obj, "product", None), "name", None)
    return str(label or f"{kind} {ident}"), attribution.campaign_href(campaign.id, ref, plain)


def merge_values(campaign: Campaign, user: User, credit_cents: int | None = None) -> dict[str, str]:
    if credit_cents is None:
        credit_cents = members.credit_of(user.id)
    credit = credit_cents
    return {
        "name": user.username,
        "tier": user.tier,
        "credit": format_minor(credit, current_app.config["CAMPAIGN_CURRENCY"]),
        "coupon": campaign.coupon_code or "",
    }


def _merge(text: str, values: dict[str, str], escape: bool) -> str:
    def swap(match: re.Match) -> str:
        value = values.get(match.group(1), "")
        return html_lib.escape(value) if escape else value

    return MERGE_RE.sub(swap, text)


def _follow(delivery_id: int | None, target: str) -> str:
    """``target`` through ``/c/l/<token>`` (marks the delivery clicked) for a real send."""
    if delivery_id is None:
        return target
    return url_for("campaigns.follow", token=link_token(delivery_id, target), _external=True)


def _wrap_links(html: str, delivery_id: int | None) -> str:
    """Route every link of the HTML through ``/c/l/<token>``."""
    if delivery_id is None:
        return html

    def swap(match: re.Match) -> str:
        href = _follow(delivery_id, html_lib.unescape(match.group(1)))
        return f'href="{html_lib.escape(href)}"'

    return re.sub(r'href="([^"]+)"', swap, html)


def render_letter(
    campaign: Campaign,
    user: User,
    *,
    delivery_id: int | None,
    contact: ContactSettings | None,
    credit_cents: int | None = None,
    cache: dict | None = None,
) -> Letter:
    """The email (or SMS text) for ``user``: merge fields filled, offers as tracked links,
    the one-click unsubscribe headers (RFC 8058), the preferences link, and the open
    pixel only when the member allows it. ``user`` and ``contact`` may be any objects
    with their attributes (a batch passes plain rows); ``cache`` (one dict per batch)
    keeps the Markdown rendering and the offer links, which are the same for everyone."""
    from .bounces import tag_headers
    from .contacts import unsubscribe_token

    cache = cache if cache is not None else {}
    values = merge_values(campaign, user, credit_cents)
    offers: dict[str, tuple[str, str] | None] = cache.setdefault("offers", {})

    def offer(match: re.Match):
        key = match.group(0)
        if key not in offers:
            offers[key] = _offer_link(campaign, match.group(1), int(match.group(2)))
        return offers[key]

    if campaign.channel == "sms":

        def sms_embed(match: re.Match) -> str:
            found = offer(match)
            return _follow(delivery_id, found[1]) if found else ""

        text = EMBED_RE.sub(sms_embed, _merge(campaign.body, values, escape=False))
        return Letter(subject="", text=text, html=None, headers={})

    token = unsubscribe_token(user.id, "marketing_email", campaign.id)
    unsubscribe = url_for("campaigns.unsubscribe", token=token, _external=True)
    # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" there, no session.
    one_click = url_for("api.one_click_unsubscribe", token=token, _external=True)
    preferences = url_for("campaigns.preferences", _external=True)

    def text_embed(match: re.Match) -> str:
        found = offer(match)
        return f"{found[0]}: {_follow(delivery_id, found[1])}" if found else "(offer gone)"

    text = EMBED_RE.sub(text_embed, _merge(campaign.body, values, escape=False))
    text += f"\n\n--\nYour email settings: {preferences}\nUnsubscribe: {unsubscribe}\n"

    def html_embed(match: re.Match) -> str:
        found = offer(match)
        if not found:
            return "(offer no longer available)"
        return f"[{found[0].replace(']', '')}]({found[1]})"

    if "html" not in cache:
        source = EMBED_RE.sub(html_embed, campaign.body)
        cache["html"] = markup.render(source).html  # the one pipeline: Markdown -> nh3
    body_html = cache["html"]
    body_html = _wrap_links(_merge(body_html, values, escape=True), delivery_id)
    pixel = ""
    if delivery_id is not None and contact is not None and contact.track_opens:
        src = url_for("campaigns.opened", token=open_token(delivery_id), _external=True)
        pixel = f'<img src="{html_lib.escape(src)}" width="1" height="1" alt="">'
    html = (
        '<!doctype html><html><body style="font-family:sans-serif;max-width:600px">'
        f'{body_html}<hr><p style="font-size:12px;color:#666">'
        f'<a href="{html_lib.escape(preferences)}">Email settings</a> · '
        f'<a href="{html_lib.escape(unsubscribe)}">Unsubscribe</a></p>{pixel}</body></html>'
    )
    headers = {
        "List-Unsubscribe": f"<{one_click}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "bulk",
        "X-Plaza-Campaign": str(campaign.id),
        **tag_headers(user.email),  # a returned DSN is trusted (service/bounces.py)
    }
    subject = _merge(campaign.subject, values, escape=False)
    return Letter(subject=subject, text=text, html=html, headers=headers)


def sms_info(body: str) -> dict:
    count = segment_count(body or "")
    return {
        "encoding": count.encoding,
        "characters": count.units,
        "segments": count.segments,
        "per_segment": count.per_segment,
    }


def send_test(actor: User, campaign: Campaign) -> str:
    """Send the message to the admin now (not a delivery, not counted); where it went."""
    from ... import mail
    from ..sms import SmsError, provider
    from .contacts import contact as contact_of

    check_admin(actor)
    row = contact_of(actor.id)
    letter = render_letter(campaign, actor, delivery_id=None, contact=row)
    if campaign.channel == "sms":
        if not (row.phone and row.phone_verified_at):
            raise ValidationFailed(fields={"phone": ["Verify your own phone number first."]})
        try:
            provider().send(row.phone, letter.text, campaign_id=None)
        except SmsError as exc:
            raise Conflict(f"The SMS provider refused: {exc}", code="sms_failed") from exc
        return row.phone
    message = mail.message(
        actor.email,
        f"[Test] {letter.subject}",
        letter.text,
        html=letter.html,
        headers=letter.headers,
    )
    try:
        mail.send_one(message)
    except Exception as exc:
        raise Conflict(f"The mail server refused: {exc}", code="mail_failed") from exc
    return actor.email
