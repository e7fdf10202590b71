"""Contact settings: consent per channel, phone verification, preferences, suppression,
and the signed unsubscribe links (one-click, no session needed)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select

from ...accounts.models import User
from ...clock import now
from ...database import insert_ignore, update_where
from ...errors import NotFound, ValidationFailed
from ...extensions import db
from ...notifications import service as notifications_service
from ..models import ContactSettings, Delivery, Suppression

PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")
NOTIFICATION_KINDS = {
    "mention": "Mentions",
    "reply": "Replies to your posts",
    "dm": "Direct messages while you are away",
    "order": "Your orders (placed, paid, shipped)",
    "merchant_order": "New orders in your shop",
    "event": "Changes to events you signed up for",
    "review": "Invitations to review what you bought",
}
PREF_CHOICES = ("instant", "digest", "off")
DIGEST_CHOICES = ("off", "daily", "weekly")
UNSUBSCRIBE_SALT = "plaza.campaigns.unsubscribe.v1"
PHONE_CODE_MINUTES = 15


def contact(user_id: int) -> ContactSettings:
    """The member's settings row, made (with the defaults) if missing."""
    row = db.session.get(ContactSettings, user_id)
    if row is None:
        db.session.execute(
            insert_ignore(ContactSettings, {"user_id": user_id, "updated_at": now()})
        )
        row = db.session.get(ContactSettings, user_id)
    return row


class Consents(Protocol):
    """What the consent checks read: a ContactSettings row or delivery's plain copy of one."""

    @property
    def marketing_email(self) -> bool | None: ...
    @property
    def marketing_sms(self) -> bool | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def phone_verified_at(self) -> datetime | None: ...


def marketing_email_allowed(row: Consents | None) -> bool:
    if row is None or row.marketing_email is None:
        return bool(current_app.config["MARKETING_EMAIL_DEFAULT"])
    return bool(row.marketing_email)


def sms_allowed(row: Consents | None) -> bool:
    return bool(row and row.marketing_sms and row.phone and row.phone_verified_at)


def settings_of(user: User) -> dict:
    row = db.session.get(ContactSettings, user.id)
    prefs = dict(row.notification_prefs or {}) if row else {}
    return {
        "marketing_email": marketing_email_allowed(row),
        "marketing_sms": bool(row and row.marketing_sms),
        "track_opens": bool(row and row.track_opens),
        "email_verified": bool(row and row.email_verified_at),
        "phone": row.phone if row else None,
        "phone_verified": bool(row and row.phone_verified_at),
        "notifications": {kind: prefs.get(kind, "instant") for kind in NOTIFICATION_KINDS},
        "digest": row.digest if row else "off",
        "in_app": notifications_service.in_app_settings(user.id),
    }


def update_settings(
    user: User,
    *,
    marketing_email: bool | None = None,
    marketing_sms: bool | None = None,
    track_opens: bool | None = None,
    notifications: dict | None = None,
    digest: str | None = None,
    in_app: dict | None = None,
) -> dict:
    """Change any of the member's settings; ValidationFailed for an unknown kind or choice
    (and nothing changed). ``in_app`` shows or mutes bell types (notifications').
    SMS consent is stored as given, but SMS is only sent to a verified phone."""
    errors: dict[str, list[str]] = {}
    for name, value in (
        ("marketing_email", marketing_email),
        ("marketing_sms", marketing_sms),
        ("track_opens", track_opens),
    ):
        if value is not None and not isinstance(value, bool):
            errors[name] = ["Use true or false."]
    if notifications is not None:
        if not isinstance(notifications, dict):
            errors["notifications"] = ["Use an object of kind: choice."]
        else:
            for kind, choice in notifications.items():
                if kind not in NOTIFICATION_KINDS:
                    errors[f"notifications.{kind}"] = [
                        f"Unknown kind; use {', '.join(NOTIFICATION_KINDS)}."
                    ]
                elif choice not in PREF_CHOICES:
                    errors[f"notifications.{kind}"] = [f"Use {', '.join(PREF_CHOICES)}."]
    if digest is not None and digest not in DIGEST_CHOICES:
        errors["digest"] = [f"Use {', '.join(DIGEST_CHOICES)}."]
    if in_app is not None:
        errors.update(notifications_service.check_in_app(in_app))
    if errors:
        raise ValidationFailed(fields=errors)
    row = contact(user.id)
    if marketing_email is not None:
        row.marketing_email = marketing_email
    if marketing_sms is not None:
        row.marketing_sms = marketing_sms
    if track_opens is not None:
        row.track_opens = track_opens
    if notifications:
        row.notification_prefs = {**(row.notification_prefs or {}), **notifications}
    if digest is not None:
        row.digest = digest
    if in_app:
        notifications_service.set_in_app(user.id, in_app)
    row.updated_at = now()
    db.session.flush()
    return settings_of(user)


# --- phone verification -----------------------------------------------------------


def _code_digest(user_id: int, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"phone:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def start_phone_verification(user: User, phone: str) -> str:
    """Store ``phone`` (E.164, unverified) and text it a 6-digit code; returns the code
    (the caller sends nothing else; tests read it). Raises ValidationFailed."""
    from ..sms import SmsError, provider

    phone = (phone or "").replace(" ", "")
    if not PHONE_RE.match(phone):
        raise ValidationFailed(
            fields={"phone": ["Use the international form, e.g. +4915112345678."]}
        )
    code = f"{secrets.randbelow(10**6):06d}"
    row = contact(user.id)
    row.phone, row.phone_verified_at = phone, None
    row.phone_code_hash = _code_digest(user.id, code)
    row.phone_code_expires_at = now() + timedelta(minutes=PHONE_CODE_MINUTES)
    try:
        provider().send(phone, f"Your Plaza code is {code}. It expires in 15 minutes.")
    except SmsError as exc:
        raise ValidationFailed(fields={"phone": [f"Could not text that number: {exc}"]}) from exc
    return code


def confirm_phone(user: User, code: str) -> None:
    row = db.session.get(ContactSettings, user.id)
    if (
        row is None
        or not row.phone_code_hash
        or row.phone_code_expires_at is None
        or row.phone_code_expires_at < now()
        or not hmac.compare_digest(row.phone_code_hash, _code_digest(user.id, str(code or "")))
    ):
        raise ValidationFailed(fields={"code": ["That code is wrong or has expired."]})
    row.phone_verified_at = now()
    row.phone_code_hash = None
    row.phone_code_expires_at = None


# --- suppression ------------------------------------------------------------------


def suppress(address: str, reason: str = "bounce") -> bool:
    """Never send to ``address`` again (a hard bounce or complaint); False if already."""
    address = (address or "").strip().lower()[:254]
    if not address:
        raise ValidationFailed(fields={"address": ["Give an address."]})
    inserted = db.session.execute(
        insert_ignore(
            Suppression, {"address": address, "reason": reason[:32], "created_at": now()}
        ).returning(Suppression.id)
    ).scalar()
    return inserted is not None


def is_suppressed(address: str) -> bool:
    return (
        db.session.scalar(select(Suppression.id).where(Suppression.address == address.lower()))
        is not None
    )


# --- unsubscribe ------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, scope: str, campaign_id: int | None = None) -> str:
    """``scope``: ``marketing_email``, ``marketing_sms`` or ``notify:<kind>``."""
    return _serializer().dumps([user_id, scope, campaign_id or 0])


def read_unsubscribe(token: str) -> tuple[int, str, int] | None:
    if not isinstance(token, str) or not 0 < len(token) <= 500:
        return None
    try:
        payload = _serializer().loads(token)
    except (BadData, ValueError, TypeError, UnicodeError):
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 3
        or not all(isinstance(part, int) and not isinstance(part, bool) for part in payload[::2])
        or not isinstance(payload[1], str)
    ):
        return None
    user_id, scope, campaign_id = payload
    valid_scope = scope in ("marketing_email", "marketing_sms") or (
        scope.startswith("notify:") and scope[7:] in NOTIFICATION_KINDS
    )
    return (user_id, scope, campaign_id) if valid_scope and user_id > 0 else None


def unsubscribe(token: str) -> str:
    """Apply a one-click unsubscribe; the scope it turned off. NotFound for a bad token.
    Repeating it changes nothing more."""
    parsed = read_unsubscribe(token)
    if parsed is None or db.session.get(User, parsed[0]) is None:
        raise NotFound("This unsubscribe link is not valid.", code="invalid_token")
    user_id, scope, campaign_id = parsed
    row = contact(user_id)
    if scope == "marketing_email":
        row.marketing_email = False
    elif scope == "marketing_sms":
        row.marketing_sms = False
    else:
        row.notification_prefs = {**(row.notification_prefs or {}), scope[7:]: "off"}
    row.updated_at = now()
    if campaign_id:
        update_where(
            Delivery,
            Delivery.campaign_id == campaign_id,
            Delivery.user_id == user_id,
            Delivery.unsubscribed_at.is_(None),
            unsubscribed_at=now(),
        )
    return scope
