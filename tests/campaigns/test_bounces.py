"""Bounces: a DSN coming back (over SMTP to the bounce receiver, or piped to the CLI)
suppresses a hard-bounced address at once and a soft-bouncing one after N; the
campaign's delivery is marked failed; forged, foreign and hostile messages suppress
nobody at once and never raise."""

import smtplib
import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.campaigns import service
from forum.campaigns.inbound import start_receiver
from forum.campaigns.models import Bounce, Suppression
from forum.clock import now
from forum.extensions import db
from tests.conftest import app_context

from .conftest import outbox
from .test_delivery import EVERYONE, campaign, deliveries, send  # noqa: F401 (fixture)


def dsn(
    address: str,
    status: str = "5.1.1",
    *,
    action: str = "failed",
    original: dict | None = None,
    diagnostic: str = "smtp; 550 5.1.1 <x>: Recipient address rejected: User unknown",
) -> bytes:
    """A DSN as Postfix writes it (RFC 3464), with the original headers returned."""
    headers = "".join(f"{k}: {v}\r\n" for k, v in (original or {}).items())
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        "To: plaza@localhost\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {address}\r\n"
        f"Original-Recipient: rfc822;{address}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: {diagnostic}\r\n"
        "\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: plaza@localhost\r\nTo: {address}\r\nSubject: Hi\r\n{headers}"
        "\r\n--B--\r\n"
    ).encode()


def returned(letter) -> dict:
    """The headers of one of our letters that a DSN sends back."""
    return {k: v for k, v in letter.extra_headers.items() if k.startswith("X-Plaza")}


def suppressed(app) -> dict[str, str]:
    with app_context(app):
        return dict(db.session.execute(select(Suppression.address, Suppression.reason)).all())


def receive(app, raw: bytes) -> list[dict]:
    with app_context(app):
        done = service.receive_bounce(raw)
        db.session.commit()
        return done


def test_a_hard_bounce_of_our_letter_suppresses_at_once_and_fails_the_delivery(
    app,
    make_user,
    verify,
    admin,
    campaign,  # noqa: F811
):
    ann, bob = make_user("ann"), make_user("bob")
    verify(ann, bob)
    first = campaign(EVERYONE)
    send(app, admin, first)
    letter = next(m for m in outbox(app) if m.to == ["ann@example.com"])
    assert returned(letter)["X-Plaza-Campaign"] == str(first)
    done = receive(app, dsn("Ann@Example.com", original=returned(letter)))
    assert done == [
        {
            "address": "ann@example.com",
            "kind": "hard",
            "status": "5.1.1",
            "suppressed": True,
            "campaign_id": first,
        }
    ]
    assert suppressed(app) == {"ann@example.com": "hard_bounce"}
    status, reason = deliveries(app, first)["ann"]
    assert status == "failed" and reason.startswith("bounced 5.1.1")
    assert deliveries(app, first)["bob"] == ("sent", "")
    # The next campaign skips her; bob still gets it.
    second = campaign(EVERYONE)
    outbox(app).clear()
    send(app, admin, second)
    assert [m.to for m in outbox(app)] == [["bob@example.com"]]
    assert deliveries(app, second)["ann"] == ("skipped", "suppressed")


def test_soft_bounces_suppress_after_the_limit_within_the_window(app, make_user, verify):
    cat = make_user("cat")
    verify(cat)
    with app_context(app):  # an old one, outside the 30-day window, does not count
        db.session.add(
            Bounce(
                address="cat@example.com",
                kind="soft",
                status="4.2.2",
                created_at=now() - timedelta(days=40),
            )
        )
        db.session.commit()
    with app_context(app), app.test_request_context("/"):
        tag = service.tag_headers("cat@example.com")
    full = dsn("cat@example.com", "4.2.2", original=tag, diagnostic="smtp; 452 4.2.2 Mailbox full")
    assert [d["suppressed"] for d in receive(app, full)] == [False]
    delayed = dsn("cat@example.com", "4.4.1", action="delayed", original=tag)
    assert [d["kind"] for d in receive(app, delayed)] == ["soft"]
    assert suppressed(app) == {}
    # A permanent refusal about the message (policy), not the address, is soft too.
    policy = dsn("cat@example.com", "5.7.1", original=tag, diagnostic="smtp; 550 5.7.1 spam")
    (third,) = receive(app, policy)
    assert third["kind"] == "soft" and third["suppressed"] is True
    assert suppressed(app) == {"cat@example.com": "soft_bounces"}


def test_a_forged_hard_bounce_counts_only_as_soft(app, make_user, verify):
    make_user("dan")
    for original in (None, {"X-Plaza-Bounce-Tag": "0" * 32}):  # no headers; a wrong tag
        (done,) = receive(app, dsn("dan@example.com", original=original))
        assert done["kind"] == "soft" and done["suppressed"] is False
    assert suppressed(app) == {}
    # Another member's valid tag does not vouch for dan's address either.
    with app_context(app), app.test_request_context("/"):
        other = service.tag_headers("eve@example.com")
    (done,) = receive(app, dsn("dan@example.com", original=other))
    assert done["kind"] == "soft"


GARBAGE = [
    b"",
    b"\x00\xff" * 1000,
    b"Subject: Out of office\r\n\r\nI am away until Monday.",
    "Subject: =?utf-8?q?\u2603?=\r\nContent-Type: multipart/report; boundary=\r\n\r\n".encode(),
    b"X" * 2_000_000,  # bigger than any DSN
]


@pytest.mark.parametrize("raw", GARBAGE, ids=["empty", "binary", "autoreply", "broken", "huge"])
def test_what_is_not_a_bounce_changes_nothing(app, raw):
    assert receive(app, raw) == []
    with app_context(app):
        assert db.session.scalar(select(func.count()).select_from(Bounce)) == 0


@pytest.mark.parametrize(
    "address,action,status",
    [
        ("not-an-address", "failed", "5.1.1"),
        ("ann@example.com", "delivered", "2.0.0"),
        ("ann@example.com", "failed", "9.9.9"),
        ("a" * 300 + "@example.com", "failed", "5.1.1"),
        ("<script>@example.com", "failed", "5.1.1"),
    ],
)
def test_dsn_parts_that_name_no_failure_are_ignored(app, address, action, status):
    assert receive(app, dsn(address, status, action=action)) == []
    assert suppressed(app) == {}


def test_an_exim_style_bounce_without_a_dsn(app):
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
        b"X-Failed-Recipients: gone@example.com\r\nSubject: Mail delivery failed\r\n\r\n"
        b"  gone@example.com\r\n    host mx.example.com: 550 5.1.1 User unknown\r\n"
    )
    (done,) = receive(app, raw)
    assert (done["address"], done["status"], done["kind"]) == ("gone@example.com", "5.1.1", "soft")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_smtp_receiver_takes_bounces_for_the_bounce_address_only(app, make_user):
    make_user("fay")
    with app_context(app), app.test_request_context("/"):
        tag = service.tag_headers("fay@example.com")
    controller = start_receiver(app, "127.0.0.1", _free_port())
    try:
        with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.sendmail("", ["someone@localhost"], dsn("fay@example.com", original=tag))
            assert suppressed(app) == {}
            client.sendmail("", ["plaza@localhost"], dsn("fay@example.com", original=tag))
    finally:
        controller.stop()
    assert suppressed(app) == {"fay@example.com": "hard_bounce"}


def test_the_pipe_command_records_a_bounce_from_standard_input(app, make_user):
    make_user("gus")
    with app_context(app), app.test_request_context("/"):
        tag = service.tag_headers("gus@example.com")
    result = app.test_cli_runner().invoke(
        args=["campaigns", "bounce"], input=dsn("gus@example.com", original=tag)
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 bounce(s)")
    assert suppressed(app) == {"gus@example.com": "hard_bounce"}
