"""Bounces: a delivery status notification (DSN, RFC 3464) coming back suppresses the
address: a hard bounce (the address does not exist or is disabled) at once, soft
ones (mailbox full, greylisting, a policy refusal) after ``CAMPAIGN_SOFT_BOUNCE_LIMIT``
within ``CAMPAIGN_SOFT_BOUNCE_DAYS``. Suppressed addresses get no campaign and no
notification email (account email, which the member asks for, still goes).

How bounces arrive in a real deployment: our mail goes out over SMTP with the envelope
sender ``MAIL_DEFAULT_SENDER``, so remote servers send DSNs there. That mailbox's MX
hands them to us either

- over SMTP: ``flask campaigns bounce-receiver --port 2525`` runs an aiosmtpd server
  (``forum/campaigns/inbound.py``) accepting mail only for ``CAMPAIGN_BOUNCE_ADDRESS``
  (Postfix: ``transport_maps`` ``bounces@plaza.example smtp:[app-host]:2525``), or
- through a pipe: ``flask campaigns bounce < message`` (a Postfix alias
  ``bounces: "|/srv/plaza/.venv/bin/flask --app forum campaigns bounce"``).

Both call ``receive``. An HTTP webhook would suit a hosted provider (SES, Postmark),
each with its own JSON; plain SMTP with DSNs is what Flask-Mailman's SMTP backend gets.

Forged bounces: anyone can mail the bounce address. Our campaign and notification
letters carry ``X-Plaza-Bounce-Tag`` (an HMAC of the recipient's address); a DSN that
returns the original headers with a valid tag is *trusted* and a hard bounce suppresses
at once. An untrusted one (no headers returned, a wrong tag) only ever counts as soft,
so a stranger cannot suppress an address with one message.

Parsing never raises on hostile input: a message that is not a bounce, is malformed or
huge is ignored (``receive`` returns nothing and writes nothing).
"""

from __future__ import annotations

import email
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message

from flask import current_app
from sqlalchemy import func, select

from ...clock import now
from ...database import update_where
from ...extensions import db
from ..models import Bounce, Campaign, Delivery
from .contacts import suppress

MAX_BYTES = 1_000_000  # a DSN is small; the original message may be returned whole
MAX_RECIPIENTS = 50
TAG_HEADER = "X-Plaza-Bounce-Tag"
ADDRESS_RE = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z0-9-]{2,63}$")
STATUS_RE = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")
# The address itself is bad or gone: bad mailbox/host/syntax (5.1.x), disabled (5.2.1),
# unroutable (5.4.4). Other permanent codes are about the message or a policy.
HARD_STATUSES = re.compile(r"^5\.(1\.\d+|2\.1|4\.4)$")


@dataclass(frozen=True)
class Bounced:
    address: str
    kind: str  # hard | soft
    status: str
    diagnostic: str
    failed: bool  # the server gave up (Action: failed), not just delayed


@dataclass(frozen=True)
class Report:
    """What one arriving message said: its bounces, the campaign it answers, trust."""

    bounces: list[Bounced]
    campaign_id: int | None
    trusted: bool


def bounce_tag(address: str) -> str:
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, b"bounce:" + address.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def tag_headers(address: str) -> dict[str, str]:
    """The header our letters carry so a returned DSN can be trusted."""
    return {TAG_HEADER: bounce_tag(address)}


def _address(raw: str | None) -> str | None:
    value = (raw or "").strip()
    if ";" in value:  # "rfc822; someone@example.com"
        value = value.split(";", 1)[1].strip()
    value = value.strip("<> \t").lower()
    return value if len(value) <= 254 and ADDRESS_RE.match(value) else None


def _kind(status: str) -> str:
    return "hard" if HARD_STATUSES.match(status) else "soft"


def _original_headers(msg: Message) -> Message | None:
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            return email.message_from_bytes(payload if isinstance(payload, bytes) else b"")
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
    return None


def _dsn_recipients(msg: Message) -> list[Bounced]:
    found: list[Bounced] = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        groups = part.get_payload()
        if not isinstance(groups, list):
            continue
        for group in groups[1:]:  # the first group is per-message, then per recipient
            if not isinstance(group, Message):
                continue
            action = str(group.get("Action", "")).strip().lower()
            if action not in ("failed", "delayed"):
                continue  # delivered, relayed, expanded: not a bounce
            status = str(group.get("Status", "")).strip().split(" ")[0]
            address = _address(group.get("Final-Recipient")) or _address(
                group.get("Original-Recipient")
            )
            match = STATUS_RE.match(status)
            if address is None or match is None or match.group(1) == "2":
                continue
            diagnostic = " ".join(str(group.get("Diagnostic-Code", "")).split())[:200]
            kind = _kind(status) if action == "failed" else "soft"
            found.append(Bounced(address, kind, status, diagnostic, action == "failed"))
    return found


def _legacy_recipients(msg: Message) -> list[Bounced]:
    """Exim and qmail style: ``X-Failed-Recipients`` and an SMTP reply in the text."""
    listed = str(msg.get("X-Failed-Recipients", ""))
    addresses = [a for a in (_address(p) for p in listed.split(",")) if a]
    if not addresses:
        return []
    text = ""
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace")[:20_000] if isinstance(payload, bytes) else ""
            break
    enhanced = re.search(r"\b([45]\.\d{1,3}\.\d{1,3})\b", text)
    basic = re.search(r"\b([45])\d\d[ -]", text)
    if enhanced:
        status = enhanced.group(1)
    else:
        status = "4.0.0" if basic and basic.group(1) == "4" else "5.0.0"
    found = enhanced or basic
    diagnostic = " ".join(text[found.start() : found.start() + 200].split()) if found else ""
    return [Bounced(a, _kind(status), status, diagnostic, True) for a in addresses]


def parse(raw: bytes) -> Report:
    """The bounces in one arriving message (nothing for anything else)."""
    if not isinstance(raw, bytes | bytearray) or not raw or len(raw) > MAX_BYTES:
        return Report([], None, False)
    try:
        msg = email.message_from_bytes(bytes(raw))
        bounces = _dsn_recipients(msg) or _legacy_recipients(msg)
        original = _original_headers(msg) if bounces else None
    except Exception:  # the stdlib parser on hostile input: nothing is a bounce
        return Report([], None, False)
    bounces = bounces[:MAX_RECIPIENTS]
    campaign_id, trusted = None, False
    if original is not None:
        raw_id = str(original.get("X-Plaza-Campaign", "")).strip()
        campaign_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None
        tag = str(original.get(TAG_HEADER, "")).strip()
        recipients = {b.address for b in bounces}
        trusted = len(recipients) == 1 and hmac.compare_digest(
            tag.encode(), bounce_tag(next(iter(recipients))).encode()
        )
    return Report(bounces, campaign_id, trusted)


def _soft_count(address: str, at) -> int:
    since = at - timedelta(days=int(current_app.config["CAMPAIGN_SOFT_BOUNCE_DAYS"]))
    return int(
        db.session.scalar(
            select(func.count(Bounce.id)).where(
                Bounce.address == address, Bounce.kind == "soft", Bounce.created_at > since
            )
        )
        or 0
    )


def receive(raw: bytes) -> list[dict]:
    """Record the bounces of one arriving message (the caller commits): each address's
    bounce row, its suppression when due, and the campaign delivery it answers marked
    failed. What was done, per address (empty for a message that is no bounce)."""
    report = parse(raw)
    if not report.bounces:
        return []
    at = now()
    campaign_id = report.campaign_id
    if campaign_id is not None and db.session.get(Campaign, campaign_id) is None:
        campaign_id = None
    limit = max(int(current_app.config["CAMPAIGN_SOFT_BOUNCE_LIMIT"]), 1)
    done = []
    for bounce in report.bounces:
        kind = bounce.kind if report.trusted else "soft"
        db.session.add(
            Bounce(
                address=bounce.address,
                kind=kind,
                status=bounce.status,
                diagnostic=bounce.diagnostic,
                campaign_id=campaign_id,
                created_at=at,
            )
        )
        db.session.flush()
        suppressed = False
        if kind == "hard":
            suppressed = suppress(bounce.address, "hard_bounce")
        elif _soft_count(bounce.address, at) >= limit:
            suppressed = suppress(bounce.address, "soft_bounces")
        if campaign_id is not None and bounce.failed:
            update_where(
                Delivery,
                Delivery.campaign_id == campaign_id,
                func.lower(Delivery.address) == bounce.address,
                Delivery.status == "sent",
                status="failed",
                reason=f"bounced {bounce.status} {bounce.diagnostic}"[:200],
            )
        done.append(
            {
                "address": bounce.address,
                "kind": kind,
                "status": bounce.status,
                "suppressed": suppressed,
                "campaign_id": campaign_id,
            }
        )
    return done
