"""SMS providers behind one small interface (like the shop's payment providers).

- ``sandbox``: nothing leaves the machine; every message is a row of ``sms_outbox``,
  which the development outbox page shows.
- ``twilio``: Twilio's official library (``twilio.rest.Client``). ``TWILIO_BASE_URL``
  points it elsewhere (the tests' local stand-in server); unset, it is Twilio's API.

``SMS_PROVIDER`` chooses (default ``sandbox``). Also GSM-7 / UCS-2 segment counting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import current_app

from ..extensions import db
from .models import SmsMessage

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


class SmsError(Exception):
    """The provider refused or could not be reached; ``str()`` is the reason."""


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" | "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # 160/153 or 70/67


def segment_count(text: str) -> SegmentCount:
    """How many SMS parts ``text`` takes: GSM-7 160 per message (153 when concatenated),
    extension characters count twice; anything else UCS-2, 70 (67 concatenated)."""
    text = text or ""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SegmentCount(encoding, units, 1 if units else 0, single)
    return SegmentCount(encoding, units, math.ceil(units / multi), multi)


class SandboxSms:
    name = "sandbox"

    def send(self, to: str, body: str, *, campaign_id: int | None = None) -> str:
        row = SmsMessage(
            provider=self.name,
            to=to,
            body=body,
            segments=segment_count(body).segments,
            campaign_id=campaign_id,
        )
        db.session.add(row)
        db.session.flush()
        row.reference = f"sandbox-{row.id}"
        return row.reference


class TwilioSms:
    name = "twilio"

    def __init__(self, config):
        from twilio.rest import Client

        sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
        if not sid or not token or not config.get("TWILIO_FROM"):
            raise SmsError("Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM")
        self.client = Client(sid, token)
        if config.get("TWILIO_BASE_URL"):
            self.client.api.base_url = config["TWILIO_BASE_URL"].rstrip("/")
        self.sender = config["TWILIO_FROM"]

    def send(self, to: str, body: str, *, campaign_id: int | None = None) -> str:
        from twilio.base.exceptions import TwilioException

        try:
            message = self.client.messages.create(to=to, from_=self.sender, body=body)
        except TwilioException as exc:
            raise SmsError(str(exc)[:200]) from exc
        except OSError as exc:
            raise SmsError(f"{type(exc).__name__}: {exc}"[:200]) from exc
        db.session.add(
            SmsMessage(
                provider=self.name,
                to=to,
                body=body,
                segments=segment_count(body).segments,
                reference=str(message.sid or "")[:64],
                campaign_id=campaign_id,
            )
        )
        return str(message.sid or "")


def provider():
    """The configured provider (``SMS_PROVIDER``)."""
    name = current_app.config["SMS_PROVIDER"]
    if name == "twilio":
        return TwilioSms(current_app.config)
    if name == "sandbox":
        return SandboxSms()
    raise SmsError(f"unknown SMS provider {name!r}")
