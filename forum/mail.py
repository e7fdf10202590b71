"""The one mail pipeline: messages built here, sent through Flask-Mailman.

Why Flask-Mailman rather than Flask-Mail: it is Django's mail module ported to Flask,
maintained, with pluggable backends (``smtp``, ``locmem`` under TESTING, ``file``,
``console``) and one connection reused for a whole batch (``get_connection()`` +
``send_messages``), which a campaign batch needs; Flask-Mail has had no release
since 2014 and opens a connection per ``send``.

Development: ``start_sink(app)`` runs an aiosmtpd SMTP server in a thread of the
process (``flask serve`` with ``MAIL_SINK``, which ``make run`` sets) that keeps
every message in a Maildir (``MAIL_SINK_DIR``, default ``instance/mail-sink``); the
development outbox page reads it (``read_sink``). Nothing leaves the machine.
"""

from __future__ import annotations

import logging
import mailbox
import os
from dataclasses import dataclass, field
from email.utils import make_msgid
from pathlib import Path

from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives

log = logging.getLogger(__name__)


def enabled() -> bool:
    """Whether mail can go anywhere: a server, or a test/locmem/file backend."""
    config = current_app.config
    return bool(config.get("MAIL_SERVER") or config.get("MAIL_BACKEND") or current_app.testing)


def sender() -> str:
    return current_app.config.get("MAIL_DEFAULT_SENDER") or "plaza@localhost"


def message(
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    headers: dict | None = None,
) -> EmailMultiAlternatives:
    """One message: plain text, optionally an HTML alternative, extra headers."""
    domain = sender().rpartition("@")[2] or "localhost"
    letter = EmailMultiAlternatives(
        subject=subject.replace("\r", " ").replace("\n", " ")[:200],
        body=text,
        from_email=sender(),
        to=[to],
        headers={"Message-ID": make_msgid(domain=domain), **(headers or {})},
    )
    if html is not None:
        letter.attach_alternative(html, "text/html")
    return letter


def send_one(letter) -> None:
    """Send now; raises what the backend raises (OSError, SMTPException)."""
    letter.send()


@dataclass
class BatchResult:
    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def send_batch(letters: list[tuple[int, object]]) -> BatchResult:
    """Send ``(key, message)`` pairs over one connection; each failure with its reason.

    A refused recipient fails only its own message. A connection that cannot be
    opened at all raises (the caller's task retries what it has not claimed).
    """
    from .extensions import mail

    result = BatchResult()
    connection = mail.get_connection()
    connection.open()
    try:
        for key, letter in letters:
            letter.connection = connection
            try:
                if letter.send():
                    result.sent.append(key)
                else:
                    result.failed[key] = "refused by the mail server"
            except Exception as exc:  # one bad address must not stop the batch
                result.failed[key] = f"{type(exc).__name__}: {exc}"[:200]
                try:  # a dropped connection: reopen for the rest
                    connection.close()
                    connection.open()
                except OSError:
                    for later_key, _ in letters[len(result.sent) + len(result.failed) :]:
                        result.failed[later_key] = f"{type(exc).__name__}: {exc}"[:200]
                    break
    finally:
        connection.close()
    return result


# --- the development SMTP sink -------------------------------------------------------


def sink_dir(app: Flask) -> str:
    return app.config.get("MAIL_SINK_DIR") or os.path.join(app.instance_path, "mail-sink")


def start_sink(app: Flask, port: int | None = None):
    """An aiosmtpd server on 127.0.0.1 keeping mail in a Maildir; points MAIL_* at it.

    Development only (it accepts anything from anyone on the loopback).
    """
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Mailbox

    if app.config.get("ENV") == "production":
        raise RuntimeError("the development mail sink never runs in production")
    directory = sink_dir(app)
    for part in ("tmp", "new", "cur"):  # a Maildir's three folders
        os.makedirs(os.path.join(directory, part), exist_ok=True)
    controller = Controller(
        Mailbox(Path(directory)),
        hostname="127.0.0.1",
        port=int(port or app.config["MAIL_SINK_PORT"]),
    )
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    from .extensions import mail

    mail.init_app(app)  # the backend reads its settings at init
    log.info("development mail sink on 127.0.0.1:%s, Maildir %s", controller.port, directory)
    return controller


@dataclass(frozen=True)
class SunkMail:
    key: str
    to: str
    subject: str
    date: str
    text: str
    html: str | None
    headers: dict


def _parts(msg) -> tuple[str, str | None]:
    text, html = "", None
    for part in msg.walk() if msg.is_multipart() else [msg]:
        kind = part.get_content_type()
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        body = payload.decode(charset, "replace")
        if kind == "text/plain" and not text:
            text = body
        elif kind == "text/html" and html is None:
            html = body
    return text, html


def _arrival(key: str) -> tuple[int, int]:
    """Maildir names start ``<seconds>.M<microseconds>P...``: their arrival order."""
    seconds, _, rest = key.partition(".")
    micro = rest[1:].split("P", 1)[0] if rest.startswith("M") else "0"
    return (int(seconds) if seconds.isdigit() else 0, int(micro) if micro.isdigit() else 0)


def read_sink(directory: str, limit: int = 100) -> list[SunkMail]:
    """The newest ``limit`` messages of the sink's Maildir, newest first."""
    if not os.path.isdir(directory):
        return []
    box = mailbox.Maildir(directory, create=False)
    found = sorted(box.keys(), key=_arrival, reverse=True)
    result = []
    for key in found[:limit]:
        msg = box.get_message(key)
        text, html = _parts(msg)
        result.append(
            SunkMail(
                key=key,
                to=str(msg.get("To", "")),
                subject=str(msg.get("Subject", "")),
                date=str(msg.get("Date", "")),
                text=text,
                html=html,
                headers={name: str(value) for name, value in msg.items()},
            )
        )
    return result
