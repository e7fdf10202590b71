"""Bounces arriving over SMTP: an aiosmtpd server that accepts mail only for the bounce
address and hands each message to ``service.receive_bounce`` (see
``service/bounces.py`` for how a deployment routes DSNs here). An entry point like the
views: it parses, calls the service and commits.

``flask campaigns bounce-receiver --host 0.0.0.0 --port 2525`` runs it;
``flask campaigns bounce < message`` takes one message on standard input instead.
"""

from __future__ import annotations

import logging
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ..database import committed
from . import service

log = logging.getLogger(__name__)

campaigns_cli = AppGroup("campaigns", help="Campaign mail: bounces coming back.")


def bounce_addresses(app: Flask) -> set[str]:
    """Who the receiver accepts mail for: ``CAMPAIGN_BOUNCE_ADDRESS`` (one or several,
    comma-separated), by default the envelope sender our mail goes out with."""
    configured = app.config.get("CAMPAIGN_BOUNCE_ADDRESS") or app.config.get("MAIL_DEFAULT_SENDER")
    raw = configured or "plaza@localhost"
    if isinstance(raw, tuple | list):  # ("Plaza", "plaza@example.com")
        raw = raw[-1]
    parts = str(raw).replace("<", ",").replace(">", ",").split(",")
    return {p.strip().lower() for p in parts if "@" in p}


def take(app: Flask, raw: bytes) -> list[dict]:
    """One message in: its bounces recorded and committed (rolled back on an error)."""
    with app.app_context(), committed():
        done = service.receive_bounce(raw)
    for item in done:
        log.info("bounce: %s", item)
    return done


class BounceHandler:
    """aiosmtpd handler: RCPT only for the bounce address(es), DATA to ``take``."""

    def __init__(self, app: Flask):
        self.app = app
        self.accepted = bounce_addresses(app)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.strip().lower() not in self.accepted:
            return "550 5.1.1 Not a bounce address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        try:
            take(self.app, bytes(envelope.original_content or envelope.content or b""))
        except Exception:
            log.exception("bounce receiver: could not record a message")
            return "451 4.3.0 Try again later"  # the sending MTA keeps it and retries
        return "250 OK"


def start_receiver(app: Flask, host: str = "127.0.0.1", port: int = 2525):
    """The receiver in a thread (aiosmtpd's Controller); ``.stop()`` it."""
    from aiosmtpd.controller import Controller

    from .service.bounces import MAX_BYTES

    controller = Controller(
        BounceHandler(app),
        hostname=host,
        port=port,
        data_size_limit=MAX_BYTES,
    )
    controller.start()
    return controller


@campaigns_cli.command("bounce")
def bounce_command() -> None:
    """Record the bounce on standard input (for an MTA's pipe); prints what it did."""
    raw = sys.stdin.buffer.read(service.bounces.MAX_BYTES + 1)
    done = take(current_app._get_current_object(), raw)
    click.echo(f"{len(done)} bounce(s)" + "".join(f"\n{d}" for d in done))


@campaigns_cli.command("bounce-receiver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True, type=int)
def bounce_receiver_command(host: str, port: int) -> None:
    """Run the SMTP server that takes bounces for the bounce address until stopped."""
    import threading

    app = current_app._get_current_object()
    controller = start_receiver(app, host, port)
    click.echo(f"bounces for {', '.join(sorted(bounce_addresses(app)))} on {host}:{port}")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
